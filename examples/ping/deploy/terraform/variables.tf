variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "handler" {
  description = "The handler grpcgw lambda-build printed: module.attribute, e.g. app.main.handler."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must be module.attribute, e.g. app.main.handler."
  }
}

variable "zip_path" {
  description = "The deployment zip from grpcgw lambda-build (a path relative to where terraform runs, or absolute)."
  type        = string

  validation {
    condition     = fileexists(var.zip_path)
    error_message = "zip_path names no file: build it first with grpcgw lambda-build."
  }
}

variable "function_name" {
  description = "Name of the Lambda function (also names the role, the log group and the API)."
  type        = string
  default     = "grpcgw-function"
}

variable "architecture" {
  description = "Lambda architecture: x86_64 or arm64. Must match the --arch the zip was built for."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "runtime" {
  description = "Lambda managed runtime. Must match the --python the zip was built for (3.12 -> python3.12)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13", "python3.14"], var.runtime)
    error_message = "runtime must be python3.11, python3.12, python3.13 or python3.14 (grpcgw needs Python >= 3.11)."
  }
}

variable "payload_format_version" {
  description = "API Gateway HTTP API payload format sent to the function: \"2.0\" or \"1.0\" (grpcgw accepts both)."
  type        = string
  default     = "2.0"

  validation {
    condition     = contains(["1.0", "2.0"], var.payload_format_version)
    error_message = "payload_format_version must be \"1.0\" or \"2.0\"."
  }
}

variable "memory_size" {
  description = "Function memory in MB (CPU scales with it; 512 keeps cold starts short)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 (MB)."
  }
}

variable "timeout" {
  description = "Function timeout in seconds; grpcgw derives each call's gRPC deadline from the time left."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 (seconds)."
  }
}

variable "environment" {
  description = "Environment variables of the function (e.g. AWS_LAMBDA_LOG_LEVEL)."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
