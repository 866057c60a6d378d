/*
 * C unit test of the qwire ABI. Linked with a malloc that aborts: the
 * library must never allocate. Output goes to stderr (unbuffered, so stdio
 * itself does not allocate either).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qwire.h"

#ifndef QW_TEST_NO_MALLOC_TRAP
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void free(void *p);

void *malloc(size_t n)
{
    (void)n;
    fputs("test_api: malloc called\n", stderr);
    abort();
}

void *calloc(size_t n, size_t m)
{
    (void)n;
    (void)m;
    fputs("test_api: calloc called\n", stderr);
    abort();
}

void *realloc(void *p, size_t n)
{
    (void)p;
    (void)n;
    fputs("test_api: realloc called\n", stderr);
    abort();
}

void free(void *p)
{
    if (p != NULL) {
        fputs("test_api: free of a pointer we never gave out\n", stderr);
        abort();
    }
}
#endif

static int failures;
static int checks;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                          \
        }                                                                        \
    } while (0)

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* Storage in static memory, as firmware would have it. */
static qw_framer static_framer;

static void test_sizes_and_status(void)
{
    CHECK(sizeof(qw_framer) == QW_FRAMER_SIZE);
    CHECK(sizeof(qw_writer) == QW_WRITER_SIZE);
    CHECK(strcmp(qw_status_str(QW_OK), "ok") == 0);
    CHECK(strcmp(qw_status_str(QW_ERR_BUFFER_TOO_SMALL), "buffer too small") == 0);
    CHECK(strcmp(qw_status_str(9999), "unknown status") == 0);
    CHECK(strncmp(qw_version(), "0.", 2) == 0);
    CHECK(QW_VERSION_MAJOR == 0);
}

static void test_framer(void)
{
    static const char stream[] =
        "{\"return\": {}}\r\n@@\n\xff{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}"
        "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33] 42";
    uint8_t buf[80];
    size_t i, used = 0;
    int frames = 0, errors = 0, sentinels = 0, too_large = 0;
    qw_message_kind kinds[4];
    qw_event ev;
    qw_framer_config cfg = {0, false};

    CHECK(qw_framer_init(&static_framer, buf, sizeof buf, &cfg) == QW_OK);
    /* One byte at a time: every outcome must still come out right. */
    for (i = 0; i < sizeof stream - 1; i++) {
        size_t off = 0;
        while (off < 1) {
            CHECK(qw_framer_feed(&static_framer, (const uint8_t *)stream + i, 1 - off, &used, &ev) == QW_OK);
            off += used;
            if (ev.kind == QW_EVENT_FRAME) {
                CHECK(qw_classify(ev.frame, &kinds[frames < 4 ? frames : 3]) == QW_OK);
                frames++;
            } else if (ev.kind == QW_EVENT_ERROR) {
                CHECK(ev.error == QW_ERROR_SYNTAX);
                CHECK(ev.at == 16);
                errors++;
            } else if (ev.kind == QW_EVENT_SENTINEL) {
                CHECK(ev.at == 19);
                sentinels++;
            } else if (ev.kind == QW_EVENT_TOO_LARGE) {
                CHECK(ev.len == 91);
                too_large++;
            }
        }
    }
    CHECK(qw_framer_finish(&static_framer, &ev) == QW_OK);
    CHECK(ev.kind == QW_EVENT_FRAME && ev.len == 2 && memcmp(ev.frame.ptr, "42", 2) == 0);
    CHECK(frames == 2 && errors == 1 && sentinels == 1 && too_large == 1);
    CHECK(kinds[0] == QW_MESSAGE_RETURN && kinds[1] == QW_MESSAGE_EVENT);
    CHECK(strcmp(qw_message_kind_str(QW_MESSAGE_OOB_COMMAND), "oob-command") == 0);
    CHECK(strcmp(qw_error_kind_str(QW_ERROR_DEPTH), "depth") == 0);

    /* Bad configuration and uninitialised storage are refused. */
    {
        qw_framer f;
        qw_framer_config deep = {2000, false};
        memset(&f, 0, sizeof f);
        CHECK(qw_framer_feed(&f, S("{}"), &used, &ev) == QW_ERR_NOT_INITIALIZED);
        CHECK(qw_framer_init(&f, buf, sizeof buf, &deep) == QW_ERR_INVALID_ARGUMENT);
        CHECK(qw_framer_init(&f, NULL, 10, NULL) == QW_ERR_NULL);
        CHECK(qw_framer_init(NULL, buf, sizeof buf, NULL) == QW_ERR_NULL);
        CHECK(qw_framer_init(&f, buf, sizeof buf, NULL) == QW_OK);
        CHECK(qw_framer_feed(&f, S("{}"), NULL, &ev) == QW_ERR_NULL);
        CHECK(qw_framer_feed(&f, NULL, 3, &used, &ev) == QW_ERR_NULL);
        CHECK(qw_framer_reset(&f) == QW_OK);
    }
}

static void test_json(void)
{
    static const char doc[] =
        "{\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"v7.2\"},"
        " \"id\": [\"a\\u00e9\\uD83D\\uDE00\\n\", -9223372036854775808, 18446744073709551615, 1.5, true, null, {}]}";
    qw_json v, x, key;
    qw_json_iter it;
    qw_json_type t;
    int64_t i64 = 0;
    uint64_t u64 = 0;
    double d = 0;
    bool b = false;
    char text[32];
    size_t len = 12345;
    int n = 0;

    CHECK(qw_json_parse(S(doc), false, &v) == QW_OK);
    CHECK(qw_json_parse(S("{'a': 1}"), false, &x) == QW_ERR_INVALID_JSON);
    CHECK(qw_json_parse(S("{'a': 1}"), true, &x) == QW_OK);
    CHECK(qw_json_parse(S("[] []"), false, &x) == QW_ERR_INVALID_JSON);
    CHECK(qw_json_pointer(v, S("/return/qemu/major"), &x) == QW_OK);
    CHECK(qw_json_int(x, &i64) == QW_OK && i64 == 7);
    CHECK(qw_json_pointer(v, S("/return/nothing"), &x) == QW_ERR_NOT_FOUND);
    CHECK(qw_json_pointer(v, S("/id/1"), &x) == QW_OK);
    CHECK(qw_json_int(x, &i64) == QW_OK && i64 == INT64_MIN);
    CHECK(qw_json_uint(x, &u64) == QW_ERR_OUT_OF_RANGE);
    CHECK(qw_json_pointer(v, S("/id/2"), &x) == QW_OK);
    CHECK(qw_json_uint(x, &u64) == QW_OK && u64 == UINT64_MAX);
    CHECK(qw_json_int(x, &i64) == QW_ERR_OUT_OF_RANGE);
    CHECK(qw_json_pointer(v, S("/id/3"), &x) == QW_OK);
    CHECK(qw_json_int(x, &i64) == QW_ERR_WRONG_TYPE);
    CHECK(qw_json_double(x, &d) == QW_OK && d == 1.5);
    CHECK(qw_json_pointer(v, S("/id/4"), &x) == QW_OK);
    CHECK(qw_json_bool(x, &b) == QW_OK && b);
    CHECK(qw_json_pointer(v, S("/id/5"), &x) == QW_OK);
    CHECK(qw_json_type_of(x, &t) == QW_OK && t == QW_JSON_NULL);
    CHECK(qw_json_get(v, S("return"), &x) == QW_OK);
    CHECK(qw_json_get(x, S("package"), &x) == QW_OK);
    CHECK(qw_json_string(x, (uint8_t *)text, sizeof text, &len) == QW_OK && len == 4 && strcmp(text, "v7.2") == 0);

    /* Escapes and a surrogate pair come out as UTF-8. */
    CHECK(qw_json_pointer(v, S("/id/0"), &x) == QW_OK);
    CHECK(qw_json_string_len(x, &len) == QW_OK && len == 8);
    len = 777;
    CHECK(qw_json_string(x, (uint8_t *)text, 8, &len) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 777); /* outputs are written only on success */
    CHECK(qw_json_string(x, (uint8_t *)text, 9, &len) == QW_OK && len == 8);
    CHECK(memcmp(text, "a\xc3\xa9\xf0\x9f\x98\x80\n", 9) == 0);
    CHECK(qw_json_int(x, &i64) == QW_ERR_WRONG_TYPE);

    /* Iterating an object gives keys and values in wire order. */
    CHECK(qw_json_iter_init(v, &it) == QW_OK);
    while (qw_json_iter_next(&it, &key, &x) == QW_OK) {
        char k[16];
        CHECK(qw_json_string(key, (uint8_t *)k, sizeof k, &len) == QW_OK);
        CHECK(strcmp(k, n == 0 ? "return" : "id") == 0);
        n++;
    }
    CHECK(n == 2);
    CHECK(qw_json_iter_next(&it, &key, &x) == QW_END);
    CHECK(qw_json_pointer(v, S("/id"), &x) == QW_OK);
    CHECK(qw_json_iter_init(x, &it) == QW_OK);
    for (n = 0; qw_json_iter_next(&it, NULL, &key) == QW_OK; n++) {
    }
    CHECK(n == 7);
    CHECK(qw_json_iter_init(key, &it) == QW_OK); /* the last element, {} */
    CHECK(qw_json_iter_next(&it, NULL, &x) == QW_END);
    CHECK(qw_json_pointer(v, S("/id/1"), &x) == QW_OK);
    CHECK(qw_json_iter_init(x, &it) == QW_ERR_WRONG_TYPE);

    /* NULL everywhere is refused. */
    CHECK(qw_json_parse(NULL, 3, false, &x) == QW_ERR_NULL);
    CHECK(qw_json_parse(S("1"), false, NULL) == QW_ERR_NULL);
    CHECK(qw_json_pointer(v, NULL, 1, &x) == QW_ERR_NULL);
    CHECK(qw_json_int(v, NULL) == QW_ERR_NULL);
    CHECK(qw_json_iter_next(NULL, NULL, &x) == QW_ERR_NULL);
}

static void test_writer(void)
{
    qw_writer w;
    uint8_t out[128];
    uint8_t tiny[8];
    size_t len = 0;
    qw_json args;

    CHECK(qw_writer_init(&w, out, sizeof out) == QW_OK);
    CHECK(qw_writer_begin_object(&w) == QW_OK);
    CHECK(qw_writer_key(&w, S("execute")) == QW_OK);
    CHECK(qw_writer_string(&w, S("guest-file-open")) == QW_OK);
    CHECK(qw_writer_key(&w, S("arguments")) == QW_OK);
    CHECK(qw_writer_begin_object(&w) == QW_OK);
    CHECK(qw_writer_key(&w, S("path")) == QW_OK);
    CHECK(qw_writer_string(&w, S("/tmp/\"q\"\xc3\xa9\n")) == QW_OK);
    CHECK(qw_writer_key(&w, S("n")) == QW_OK);
    CHECK(qw_writer_int(&w, -5) == QW_OK);
    CHECK(qw_writer_key(&w, S("list")) == QW_OK);
    CHECK(qw_json_parse(S("[ true , null , 'x' ]"), true, &args) == QW_OK);
    CHECK(qw_writer_json(&w, args) == QW_OK);
    CHECK(qw_writer_end_object(&w) == QW_OK);
    CHECK(qw_writer_end_object(&w) == QW_OK);
    CHECK(qw_writer_finish(&w, &len) == QW_OK);
    {
        static const char want[] =
            "{\"execute\":\"guest-file-open\",\"arguments\":{\"path\":\"/tmp/\\\"q\\\"\\u00E9\\n\",\"n\":-5,"
            "\"list\":[true,null,\"x\"]}}";
        CHECK(len == sizeof want - 1 && memcmp(out, want, len) == 0);
    }
    CHECK(qw_writer_begin_object(&w) == QW_ERR_NOT_INITIALIZED); /* finished */

    CHECK(qw_writer_init(&w, out, sizeof out) == QW_OK);
    CHECK(qw_writer_begin_object(&w) == QW_OK);
    CHECK(qw_writer_int(&w, 1) == QW_ERR_WRITER_MISUSE);
    CHECK(qw_writer_init(&w, out, sizeof out) == QW_OK);
    CHECK(qw_writer_string(&w, S("\xff")) == QW_ERR_INVALID_UTF8);
    CHECK(qw_writer_json_text(&w, S("{\"a\":")) == QW_ERR_INVALID_JSON);

    memset(tiny, 0xAA, sizeof tiny);
    CHECK(qw_writer_init(&w, tiny, 4) == QW_OK);
    CHECK(qw_writer_string(&w, S("hello")) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(tiny[4] == 0xAA && tiny[7] == 0xAA); /* nothing past the end */
    CHECK(qw_writer_finish(&w, &len) == QW_ERR_BUFFER_TOO_SMALL);
    CHECK(qw_writer_key(NULL, S("a")) == QW_ERR_NULL);
}

int main(void)
{
    test_sizes_and_status();
    test_framer();
    test_json();
    test_writer();
    if (failures != 0) {
        fprintf(stderr, "test_api: %d of %d checks failed\n", failures, checks);
        return 1;
    }
    fprintf(stderr, "test_api: all %d checks passed (no allocation)\n", checks);
    return 0;
}
