"""Setting a session up: creation from its definition, the session key and its custodians,
examiners on marking groups and the lead's scheme approval.
"""
