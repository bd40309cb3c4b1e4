"""The intake room: a batch folder read, checked and stored anonymized; recusal declarations
waiting for intakes; violations and interview scores sealed as they enter.
"""
