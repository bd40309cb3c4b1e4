"""The intake room: a batch folder read, checked and stored anonymized; recusal declarations
waiting for intakes; violations and interview scores sealed as they enter.

A batch goes ``batch.intake_batch`` (the driver) → ``reading`` (the files, row by row) →
``validated`` (what a checked batch is, and the checks) → ``storing.store_batch`` (the one
anonymizing storing step, for typed and scanned scripts alike); ``questions`` gives each
question's id, group and key scorer.
"""
