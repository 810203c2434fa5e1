variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "function_name" {
  description = "Name of the Lambda function (also names the role, the log group and the API)."
  type        = string
  default     = "grpcgw-ping"
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
    condition     = can(regex("^python3\\.(1[1-9]|[2-9][0-9])$", var.runtime))
    error_message = "runtime must be python3.11 or later (grpcgw needs Python >= 3.11)."
  }
}

variable "zip_path" {
  description = "Deployment zip from scripts/build_lambda.py. Default: build/ping-lambda-<architecture>.zip at the repository root."
  type        = string
  default     = null
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
}

variable "timeout" {
  description = "Function timeout in seconds; grpcgw derives each call's gRPC deadline from the time left."
  type        = number
  default     = 10
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group."
  type        = number
  default     = 14
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default = {
    Project = "grpcgw-ping"
  }
}
