"""The assembly line (DESIGN §4): claims under leases, marks reconciled as they arrive, flags and
hand-backs; the lead's rulings; the opaque handles examiners and leads address work by.
"""
