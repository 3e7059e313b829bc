"""Where the records live: the database engine, the tables, the schema migrations, the clock."""
