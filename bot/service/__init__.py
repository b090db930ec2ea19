"""Application services: commands, handlers and the message bus."""
