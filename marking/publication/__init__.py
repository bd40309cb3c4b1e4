"""The publication room: the director's approval of the session as it stands (R16), and publication
as one batch (publish.py drives it); unsealing.py is the only code that unseals.
"""
