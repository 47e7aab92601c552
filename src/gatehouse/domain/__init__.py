"""The domain: entities, value objects and policies, standard library only."""
