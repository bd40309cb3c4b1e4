"""The people room: accounts (passwords, roles), the two-admin requests on powerful accounts, the
examiner register and its certificates, conflict declarations.
"""
