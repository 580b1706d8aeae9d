DROP TABLE search_tokens_shared;
