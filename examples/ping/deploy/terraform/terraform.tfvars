# The ping example. For your own function, set your handler and zip here (or
# pass -var handler=... -var zip_path=...). Paths are relative to this directory.
#
# Built from the repository root with:
#   grpcgw lambda-build examples.ping.lambda_function.handler --include examples \
#     --exclude examples/ping/deploy --exclude examples/ping/proto \
#     --requirements examples/ping/requirements.txt -o build/ping-lambda-x86_64.zip

handler       = "examples.ping.lambda_function.handler"
zip_path      = "../../../../build/ping-lambda-x86_64.zip"
function_name = "grpcgw-ping"

tags = {
  Project = "grpcgw-ping"
}
