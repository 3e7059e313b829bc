"""Risk signals for insurers: the model, the signals read from the records, premium bands,
the portfolio views."""
