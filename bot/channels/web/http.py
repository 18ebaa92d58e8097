"""The web server's HTTP/1.1: uvicorn with httptools (its C parser), bounded as uvicorn's pure-Python h11 is.
httptools keeps a request's head (its URL and headers) in memory however long it grows; h11 refuses one over 16 KiB.
Here a head that has not ended within HEAD_LIMIT bytes is refused the same way (400, and the connection closed)."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_LIMIT = 32 * 1024  # the URL and headers of one request; a login's callback URL or a session's cookies are < 4 KiB
END = b"\r\n\r\n"  # a head ends at its first empty line


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request whose head runs past HEAD_LIMIT bytes, before the parser
    takes the bytes that pass it. A head is counted from the end of the request before it (or the connection's
    start) to its first empty line; what follows that line (the body, the next request) is not counted."""

    _in_head = True  # until this request's head has ended
    _head_bytes = 0
    _tail = b""  # the last bytes of the head so far: its end may come split over two reads

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes, self._tail = True, 0, b""  # what comes next is the next request's head

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            if self.transport.is_closing():  # refused already
                return
            seen = self._tail + data if self._tail else data
            end = seen.find(END)
            self._head_bytes += len(data) if end < 0 else max(0, end + len(END) - len(self._tail))
            self._tail = seen[-(len(END) - 1):]
            if self._head_bytes > HEAD_LIMIT:
                self.logger.warning("refused a request whose head ran past %d bytes", HEAD_LIMIT)
                self.send_400_response("Request head too large.")
                return
        super().data_received(data)
