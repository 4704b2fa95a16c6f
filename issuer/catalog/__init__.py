"""The catalogue in the database: badge class versions and the administrators' edit form."""
