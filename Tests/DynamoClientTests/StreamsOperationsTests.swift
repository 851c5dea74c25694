// DynamoDB Streams: the wire forms the client reads and sends.
import DynamoClient
import DynamoCore
import Foundation
import Testing

@Suite struct StreamsOperationsTests {
    /// A GetRecords answer as AWS sends it: a TTL delete (userIdentity) and a MODIFY, dates in epoch seconds.
    @Test func getRecordsAnswersDecodeWithImagesSequenceNumbersAndTimeToLiveDeletes() throws {
        let body = """
            {"Records":[
              {"eventID":"1","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"eu-west-1",
               "dynamodb":{"ApproximateCreationDateTime":1.7645E9,"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"exp":{"N":"1"}},
                 "SequenceNumber":"300000000000000499659","SizeBytes":30,"StreamViewType":"NEW_AND_OLD_IMAGES"},
               "userIdentity":{"PrincipalId":"dynamodb.amazonaws.com","Type":"Service"}},
              {"eventID":"2","eventName":"MODIFY","dynamodb":{"ApproximateCreationDateTime":1764500001,"Keys":{"pk":{"S":"b"}},
                 "NewImage":{"pk":{"S":"b"},"v":{"N":"2"}},"OldImage":{"pk":{"S":"b"},"v":{"N":"1"}},"SequenceNumber":"300000000000000499660"}}
            ],"NextShardIterator":null}
            """
        let page = try DynamoDBClient.decodeRecordsPage(Array(body.utf8))
        #expect(page.nextShardIterator == nil, "a closed shard read to its end")
        #expect(page.records.count == 2)
        #expect(page.records[0].isTimeToLiveDelete)
        #expect(page.records[0].oldImage == ["pk": .s("a"), "exp": .n(DynamoNumber(1))])
        #expect(page.records[0].approximateCreationDateTime == Date(timeIntervalSince1970: 1_764_500_000))
        #expect(page.records[1].eventName == .modify)
        #expect(!page.records[1].isTimeToLiveDelete)
        #expect(page.records[1].newImage?["v"] == .n(DynamoNumber(2)))
        #expect(page.records[1].sequenceNumber == "300000000000000499660")
    }

    @Test func anAnswerWithoutRecordsIsMalformedNotAnEmptyPage() {
        #expect(throws: (any Error).self) { try DynamoDBClient.decodeRecordsPage(Array(#"{"NextShardIterator":"x"}"#.utf8)) }
    }

    @Test func streamsCallsGoToTheStreamsEndpointWithTheirOwnTarget() {
        #expect(DynamoDBClient.streamsEndpoint(for: "https://dynamodb.eu-west-1.amazonaws.com") == "https://streams.dynamodb.eu-west-1.amazonaws.com")
        #expect(DynamoDBClient.streamsEndpoint(for: "https://dynamodb.cn-north-1.amazonaws.com.cn") == "https://streams.dynamodb.cn-north-1.amazonaws.com.cn")
        #expect(DynamoDBClient.streamsEndpoint(for: "http://127.0.0.1:8000") == "http://127.0.0.1:8000")
        #expect(DynamoDBClient.target(of: "GetRecords") == "DynamoDBStreams_20120810.GetRecords")
        #expect(DynamoDBClient.target(of: "DescribeStream") == "DynamoDBStreams_20120810.DescribeStream")
        #expect(DynamoDBClient.target(of: "DescribeTable") == "DynamoDB_20120810.DescribeTable")
    }
}
