"""The contenders, one module each; every module builds its handler at import, as a
Lambda function module does (the cold-start scenario times exactly that import)."""
