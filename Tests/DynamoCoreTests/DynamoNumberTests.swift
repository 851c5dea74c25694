import DynamoCore
import Testing

@Suite struct DynamoNumberTests {
    @Test(arguments: [
        ("0", "0"), ("-0", "0"), ("+0", "0"), ("0.000", "0"), ("000", "0"), ("0E+5", "0"), ("-0.0e-3", "0"),
        ("1.50", "1.5"), ("1.5", "1.5"), ("1E+2", "100"), ("1e2", "100"), ("+7", "7"), ("007", "7"),
        ("100", "100"), ("-100.0", "-100"), ("5.", "5"), (".5", "0.5"), ("-.5", "-0.5"), ("1E-3", "0.001"),
        ("-12.3400e1", "-123.4"), ("123.456E-5", "0.00123456"), ("12345E-2", "123.45"), ("1e0", "1"),
        ("0.00120", "0.0012"), ("1200E-2", "12"), ("0.5E1", "5"), ("-00012.0100", "-12.01"),
        ("1234.5678E-2", "12.345678"), ("9876543210.0123456789E+5", "987654321001234.56789"),
    ])
    func canonicalForm(text: String, expected: String) throws {
        let number = try DynamoNumber(validating: text)
        #expect(number.canonical == expected)
        #expect(number.text == text)
        #expect(number == DynamoNumber(unchecked: expected))
    }

    @Test func canonicalAtTheRangeLimits() throws {
        let smallest = try DynamoNumber(validating: "1E-130")
        #expect(smallest.canonical == "0." + String(repeating: "0", count: 129) + "1")
        let negativeSmallest = try DynamoNumber(validating: "-1E-130")
        #expect(negativeSmallest.canonical == "-0." + String(repeating: "0", count: 129) + "1")
        let largest = try DynamoNumber(validating: "9.9999999999999999999999999999999999999E+125")
        #expect(largest.canonical == String(repeating: "9", count: 38) + String(repeating: "0", count: 88))
        #expect(largest.canonical.count == 126)
    }

    @Test func canonicalOfUncheckedText() {
        // Far outside DynamoDB's range: scientific form instead of thousands of zeros.
        #expect(DynamoNumber(unchecked: "1E+5000").canonical == "1E+5000")
        #expect(DynamoNumber(unchecked: "-12.50E-2000").canonical == "-1.25E-1999")
        let sevens = String(repeating: "7", count: 2000)
        #expect(DynamoNumber(unchecked: sevens).canonical == "7." + sevens.dropFirst() + "E+1999")
        #expect(DynamoNumber(unchecked: "10E+999999").canonical == "1E+1000000")
        #expect(DynamoNumber(unchecked: "1E+99999999999999999999").canonical == "1E+99999999999999999999")
        #expect(DynamoNumber(unchecked: "1E+99999999999999999999") != DynamoNumber(unchecked: "1E+99999999999999999998"))
        #expect(DynamoNumber(unchecked: "0E+99999999999999999999").canonical == "0")
        // Not a number at all: the text is its own canonical form.
        #expect(DynamoNumber(unchecked: "abc").canonical == "abc")
        #expect(DynamoNumber(unchecked: "").canonical == "")
        // Already canonical text comes back unchanged.
        #expect(DynamoNumber(unchecked: "-12.5").canonical == "-12.5")
    }

    @Test func equalityAndHashingFollowValues() {
        let a = DynamoNumber(unchecked: "1.50"), b = DynamoNumber(unchecked: "1.5")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(DynamoNumber(unchecked: "1E+2") == DynamoNumber(100))
        #expect(DynamoNumber(unchecked: "-0") == DynamoNumber(0))
        #expect(DynamoNumber(unchecked: "1.5") != DynamoNumber(unchecked: "1.05"))
        #expect(DynamoNumber(unchecked: "-1") != DynamoNumber(1))
        let set: Set<DynamoNumber> = [a, b, DynamoNumber(unchecked: "15E-1"), DynamoNumber(2)]
        #expect(set.count == 2)
        #expect(AttributeValue.n(a) == .n(b))
    }

    @Test func intInitialiser() {
        #expect(DynamoNumber(-42).text == "-42")
        #expect(DynamoNumber(0).canonical == "0")
    }

    @Test(arguments: [
        "", "abc", "1.2.3", "1e", "1e+", "--1", "+-1", " 1", "1 ", ".", "e5", "0x10", "NaN",
        "Infinity", "1,000", "1_000", "١", "1E5.5", "-", "+", ".e1",
    ])
    func rejectsNonNumbers(text: String) {
        #expect(throws: DynamoNumberError.notANumber(text)) { try DynamoNumber(validating: text) }
    }

    @Test func significantDigitLimit() throws {
        let digits38 = "12345678901234567890123456789012345678"
        #expect(try DynamoNumber(validating: digits38).canonical == digits38)
        #expect(try DynamoNumber(validating: "-0.000" + digits38 + "000").canonical == "-0.000" + digits38)
        let digits39 = digits38 + "9"
        #expect(throws: DynamoNumberError.tooManyDigits(digits39, digits: 39)) { try DynamoNumber(validating: digits39) }
        let withPoint = "1234567890123456789.01234567890123456789"  // 39 digits across the point
        #expect(throws: DynamoNumberError.tooManyDigits(withPoint, digits: 39)) { try DynamoNumber(validating: withPoint) }
        // Trailing and leading zeros are not significant.
        let manyZeros = "1" + String(repeating: "0", count: 60)
        #expect(try DynamoNumber(validating: manyZeros).canonical == manyZeros)
        #expect(
            try DynamoNumber(validating: "0.0000000000000000000000000000000000000000001").canonical
                == "0.0000000000000000000000000000000000000000001")
    }

    @Test func rangeLimits() throws {
        for text in [
            "1E-130", "-1E-130", "10E-131", "0.1E-129", "9.9999999999999999999999999999999999999E+125",
            "-9.9999999999999999999999999999999999999E+125", "1E+125", "0E+99999", "0E-99999",
        ] {
            #expect(throws: Never.self) { try DynamoNumber(validating: text) }
        }
        for text in [
            "1E-131", "0.9E-130", "-1E-131", "1E+126", "10E+125", "-1E+126", "1E+99999999999999999999",
            "1E-99999999999999999999",
        ] {
            #expect(throws: DynamoNumberError.outOfRange(text)) { try DynamoNumber(validating: text) }
        }
        #expect(DynamoNumber(unchecked: "1E+126").isValid == false)
        #expect(DynamoNumber(unchecked: "1E+125").isValid == true)
    }

    @Test func errorMessages() {
        #expect(DynamoNumberError.notANumber("x").description == "\"x\" is not a number")
        #expect(
            DynamoNumberError.tooManyDigits("1", digits: 39).description
                == "\"1\" has 39 significant digits; DynamoDB keeps at most 38")
    }
}
