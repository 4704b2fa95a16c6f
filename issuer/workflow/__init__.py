"""A teacher's work and its review: submissions, evidence uploads, who may review what, decisions."""
