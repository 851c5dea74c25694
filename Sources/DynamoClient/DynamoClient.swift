// DynamoClient: typed DynamoDB operations with retries, errors an operator understands, and waiters.
import DynamoCore
import AWSAuth
import CurlTransport
