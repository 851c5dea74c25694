// plan command tests (being written)
