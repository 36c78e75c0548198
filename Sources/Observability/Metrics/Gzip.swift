import CZlib

/// gzip (RFC 1952) compression through the system zlib.
package enum Gzip {
    /// Compresses `input` into one gzip member.
    /// - Parameters:
    ///   - input: The bytes to compress.
    ///   - level: zlib's compression level, 0…9; default 6 (zlib's own default).
    /// - Returns: The gzip bytes: header, deflate stream, CRC-32 and length trailer.
    /// - Throws: ``GzipError`` with zlib's return code when zlib fails (out of memory, bad level).
    package static func compress(_ input: [UInt8], level: Int32 = 6) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for the gzip wrapper instead of the zlib one.
        let initStatus = CZlib_deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY)
        guard initStatus == Z_OK else { throw GzipError(operation: "deflateInit2", code: initStatus) }
        defer { deflateEnd(&stream) }

        // deflateBound covers the zlib wrapper; the gzip wrapper is 18 bytes instead of 6.
        let capacity = Int(deflateBound(&stream, uLong(input.count))) + 32
        var output = [UInt8](repeating: 0, count: capacity)
        var source = input
        let status = source.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw GzipError(operation: "deflate", code: status) }
        output.removeLast(Int(stream.avail_out))
        return output
    }
}

/// zlib refused to compress.
package struct GzipError: Error, Equatable, CustomStringConvertible {
    /// The zlib function that failed.
    package var operation: String
    /// zlib's return code (`Z_MEM_ERROR` = -4, `Z_STREAM_ERROR` = -2, `Z_BUF_ERROR` = -5, …).
    package var code: Int32

    /// What failed.
    package var description: String {
        "zlib \(operation) failed with code \(code); the response is sent uncompressed instead"
    }
}
