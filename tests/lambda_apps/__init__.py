"""Handler modules for awslambdaric in the Lambda tests: ``tests.lambda_apps.<module>.<fn>``."""
