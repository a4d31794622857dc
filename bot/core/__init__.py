"""What every layer stands on: configuration, the database and its migrations, text
normalisation, the township calendar, the message and user types, masking and purging."""
