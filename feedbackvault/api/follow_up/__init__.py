"""Follow-up staff: the queue of responses whose purpose allows contacting the respondent."""
