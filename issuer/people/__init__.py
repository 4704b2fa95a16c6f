"""People: accounts and roles, sign-in, invitations and password resets, districts and enrolment."""
