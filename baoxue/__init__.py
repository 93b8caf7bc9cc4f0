"""保学 Baoxue: 控辍保学 (dropout control and school retention) for schools and county bureaus."""
