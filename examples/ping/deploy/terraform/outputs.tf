output "endpoint" {
  description = "Base URL of the HTTP API (no trailing slash): curl \"$(terraform output -raw endpoint)/v1/ping\" for the example."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "function_name" {
  description = "Name of the Lambda function (for aws lambda invoke and the logs)."
  value       = aws_lambda_function.this.function_name
}

output "log_group" {
  description = "CloudWatch log group of the function."
  value       = aws_cloudwatch_log_group.lambda.name
}
