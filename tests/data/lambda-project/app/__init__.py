"""A bookshop: a user's project with its generated code at the top level (bookshop/v1/)."""
