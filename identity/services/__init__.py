"""Identity services: async, take their collaborators explicitly, raise domain errors."""
