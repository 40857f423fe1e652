/* http_parse.h - the HTTP/1.1 request parser and fixed responses shared by
 * examples/http.c (a goroutine per connection) and bench/pth_http.c (a
 * pthread per connection), so that the two servers the benchmark compares
 * parse the same way and answer the same bytes.
 *
 *   http_parse_request(p, n, &used, &head)
 *       parses the request at the start of [p, p+n): HTTP_REQ_INCOMPLETE,
 *       HTTP_REQ_KEEP / HTTP_REQ_CLOSE (a good request; keep the connection
 *       or close it after answering), HTTP_REQ_BAD (400), HTTP_REQ_TOO_BIG
 *       (431: no end of head within HTTP_IN_BUF bytes), HTTP_REQ_BODY_TOO_BIG
 *       (413). *used gets the request's length, head and body; *head whether
 *       it is a HEAD request.
 *   http_answer(in, have, &off, out, &outlen, &served)
 *       appends to out[0, HTTP_OUT_BUF) the responses to the complete
 *       requests in in[off, have), advancing off past each. Returns
 *       HTTP_MORE (wait for more input), HTTP_FLUSH (out is full: write
 *       out[0, outlen), set outlen = 0 and call again) or HTTP_DONE (write
 *       out[0, outlen), then close the connection). served counts the
 *       requests answered with 200 (atomically).
 *
 * Every request gets "hello\n" (no Date header, so that responses are
 * byte-for-byte fixed). Only what these servers need is checked: the request
 * line "METHOD SP target SP HTTP/1.x", Connection and Content-Length.
 * Static functions only: include it in one file of a program. C99. */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stddef.h>
#include <string.h>

#define HTTP_IN_BUF  8192   /* the largest request head plus body we accept */
#define HTTP_OUT_BUF 8192

static const char HTTP_RESP_KA[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
static const char HTTP_RESP_CLOSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
    "Connection: close\r\n\r\nhello\n";
#define HTTP_BODY_LEN 6   /* "hello\n", the tail of HTTP_RESP_KA and HTTP_RESP_CLOSE */
static const char HTTP_RESP_400[] =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char HTTP_RESP_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";
static const char HTTP_RESP_413[] =
    "HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

static int http_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Does [p, p+n) start with the lowercase word w, ignoring case? */
static int http_starts_with_ci(const char *p, size_t n, const char *w) {
    size_t i;
    for (i = 0; w[i]; i++)
        if (i >= n || http_lower((unsigned char)p[i]) != w[i]) return 0;
    return 1;
}

/* Does the header value [p, p+n) contain the lowercase token w? */
static int http_contains_ci(const char *p, size_t n, const char *w) {
    size_t wl = strlen(w);
    for (size_t i = 0; i + wl <= n; i++)
        if (http_starts_with_ci(p + i, n - i, w)) return 1;
    return 0;
}

static const char *http_find_head_end(const char *p, size_t n) {
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return p + i + 4;
    return NULL;
}

enum {
    HTTP_REQ_INCOMPLETE, HTTP_REQ_KEEP, HTTP_REQ_CLOSE, HTTP_REQ_BAD, HTTP_REQ_TOO_BIG,
    HTTP_REQ_BODY_TOO_BIG
};

/* The first "\r\n" in [p, lim), or lim. */
static const char *http_find_crlf(const char *p, const char *lim) {
    for (; p + 1 < lim; p++)
        if (p[0] == '\r' && p[1] == '\n') return p;
    return lim;
}

static int http_parse_request(const char *p, size_t n, size_t *used, int *head) {
    const char *end = http_find_head_end(p, n), *line, *eol;
    size_t      i = 0, mend, body = 0;
    int         keep;
    if (!end) return n >= HTTP_IN_BUF ? HTTP_REQ_TOO_BIG : HTTP_REQ_INCOMPLETE;

    /* request line */
    while (p[i] >= 'A' && p[i] <= 'Z') i++;   /* stops at the head's "\r\n" at the latest */
    mend = i;
    if (mend == 0 || p[i] != ' ') return HTTP_REQ_BAD;
    eol = http_find_crlf(p, end);
    i = (size_t)(eol - p);
    if (i < mend + 11 || memcmp(p + i - 9, " HTTP/1.", 8) != 0 ||
        p[i - 1] < '0' || p[i - 1] > '9')
        return HTTP_REQ_BAD;
    keep = p[i - 1] >= '1';   /* HTTP/1.1 keeps the connection by default, 1.0 does not */
    *head = mend == 4 && memcmp(p, "HEAD", 4) == 0;

    /* headers */
    for (line = eol + 2; line < end - 2; line = eol + 2) {
        size_t len;
        eol = http_find_crlf(line, end);
        len = (size_t)(eol - line);
        if (http_starts_with_ci(line, len, "connection:")) {
            if (http_contains_ci(line, len, "close")) keep = 0;
            else if (http_contains_ci(line, len, "keep-alive")) keep = 1;
        } else if (http_starts_with_ci(line, len, "content-length:")) {
            const char *v = line + 15;
            body = 0;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            if (v == eol) return HTTP_REQ_BAD;
            for (; v < eol && *v >= '0' && *v <= '9'; v++) {
                body = body * 10 + (size_t)(*v - '0');
                if (body > HTTP_IN_BUF) return HTTP_REQ_BODY_TOO_BIG;
            }
        }
    }
    if ((size_t)(end - p) + body > n)
        return (size_t)(end - p) + body > HTTP_IN_BUF ? HTTP_REQ_BODY_TOO_BIG
                                                      : HTTP_REQ_INCOMPLETE;
    *used = (size_t)(end - p) + body;
    return keep ? HTTP_REQ_KEEP : HTTP_REQ_CLOSE;
}

enum { HTTP_MORE, HTTP_FLUSH, HTTP_DONE };

static int http_answer(const char *in, size_t have, size_t *off, char *out, size_t *outlen,
                       long *served) {
    for (;;) {
        size_t      used = 0, rlen;
        int         head = 0, r;
        const char *resp;
        r = http_parse_request(in + *off, have - *off, &used, &head);
        if (r == HTTP_REQ_INCOMPLETE) return HTTP_MORE;
        if (r == HTTP_REQ_KEEP)         { resp = HTTP_RESP_KA;    rlen = sizeof HTTP_RESP_KA - 1; }
        else if (r == HTTP_REQ_CLOSE)   { resp = HTTP_RESP_CLOSE; rlen = sizeof HTTP_RESP_CLOSE - 1; }
        else if (r == HTTP_REQ_BAD)     { resp = HTTP_RESP_400;   rlen = sizeof HTTP_RESP_400 - 1; }
        else if (r == HTTP_REQ_TOO_BIG) { resp = HTTP_RESP_431;   rlen = sizeof HTTP_RESP_431 - 1; }
        else                            { resp = HTTP_RESP_413;   rlen = sizeof HTTP_RESP_413 - 1; }
        if (head && (r == HTTP_REQ_KEEP || r == HTTP_REQ_CLOSE))
            rlen -= HTTP_BODY_LEN;   /* HEAD: the same headers, no body */
        if (*outlen + rlen > HTTP_OUT_BUF) return HTTP_FLUSH;
        memcpy(out + *outlen, resp, rlen);
        *outlen += rlen;
        if (r == HTTP_REQ_KEEP || r == HTTP_REQ_CLOSE)
            __atomic_add_fetch(served, 1, __ATOMIC_RELAXED);
        if (r != HTTP_REQ_KEEP) return HTTP_DONE;
        *off += used;
    }
}

#endif /* HTTP_PARSE_H */
