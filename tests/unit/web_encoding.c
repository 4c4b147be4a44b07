/* Encoding globals (lib/web/encoding.c) and DOMException (lib/web/domexception.c) on a bare heap: atob/btoa
 * with forgiving-base64 and InvalidCharacterError, TextDecoder's labels, fatal/ignoreBOM/stream for UTF-8,
 * UTF-16LE/BE and windows-1252, TextEncoder.encodeInto, and DOMException's WebIDL surface. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "web/internal.h"

static duk_context *ctx;

static void setup(void)
{
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    ew__web_init(ctx);
    cr_assert_eq(duk_peval_string(ctx, "function codes(s) { var r = []; for (var i = 0; i < s.length; i++)"
                                       " r.push(s.charCodeAt(i).toString(16)); return r.join(' '); }"
                                       "function dec(label, bytes, opts) { return new TextDecoder(label, opts)"
                                       ".decode(new Uint8Array(bytes)); }"),
                 0);
    duk_pop(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

TestSuite(web_encoding, .init = setup, .fini = teardown);

static const char *run(const char *js)
{
    static char out[8192];
    if (duk_peval_string(ctx, js) != DUK_EXEC_SUCCESS) {
        duk_get_prop_string(ctx, -1, "name");
        duk_get_prop_string(ctx, -2, "message");
        snprintf(out, sizeof(out), "THROWN %s: %s", duk_safe_to_string(ctx, -2), duk_safe_to_string(ctx, -1));
        duk_pop_3(ctx);
        return out;
    }
    size_t n;
    const char *s = ew__to_utf8(ctx, -1, &n);
    snprintf(out, sizeof(out), "%.*s", (int) n, s);
    duk_pop(ctx);
    return out;
}

#define EXPECT(js, expected) cr_expect_str_eq(run(js), (expected), "%s", (js))

Test(web_encoding, btoa_and_atob_round_trip_latin1)
{
    EXPECT("btoa('hello')", "aGVsbG8=");
    EXPECT("btoa('')", "");
    EXPECT("btoa('\\u00ff\\u00fe\\u0000')", "//4A");
    EXPECT("codes(atob('//4A'))", "ff fe 0");
    EXPECT("atob('aGVsbG8')", "hello");          /* padding is optional */
    EXPECT("atob(' aG\\tVs\\nbG8= ')", "hello"); /* ASCII whitespace is ignored */
    EXPECT("atob('YQ==')", "a");
    EXPECT("atob('YR==')", "a"); /* forgiving: non-zero trailing bits are dropped */
    EXPECT("codes(atob(null))", "9e e9 65");
}

Test(web_encoding, atob_errors_are_invalid_character)
{
    EXPECT("try { atob('a') } catch (e) { [e.name, e.code, e instanceof DOMException, e instanceof Error].join() }",
           "InvalidCharacterError,5,true,true");
    EXPECT("try { atob('YQ=') } catch (e) { e.name }", "InvalidCharacterError");
    EXPECT("try { atob('YQ===') } catch (e) { e.name }", "InvalidCharacterError");
    EXPECT("try { atob('Y=Q=') } catch (e) { e.name }", "InvalidCharacterError");
    EXPECT("try { atob('a-b_') } catch (e) { e.name }", "InvalidCharacterError");
    EXPECT("try { btoa('\\u0100') } catch (e) { e.name }", "InvalidCharacterError");
    EXPECT("try { btoa('\\ud83d\\ude00') } catch (e) { e.name }", "InvalidCharacterError");
    EXPECT("try { atob() } catch (e) { e.name }", "TypeError");
}

Test(web_encoding, domexception_webidl_surface)
{
    EXPECT("var e = new DOMException('m', 'NotFoundError'); [e.name, e.message, e.code, String(e)].join('|')",
           "NotFoundError|m|8|NotFoundError: m");
    EXPECT("var e = new DOMException(); [e.name, e.message, e.code].join('|')", "Error||0");
    EXPECT("new DOMException('x', 'DataError').code", "0");
    EXPECT("[DOMException.INDEX_SIZE_ERR, DOMException.DATA_CLONE_ERR, DOMException.prototype.SYNTAX_ERR].join()",
           "1,25,12");
    EXPECT("Object.getPrototypeOf(DOMException.prototype) === Error.prototype", "true");
    EXPECT("typeof new DOMException('x').stack", "string");
    EXPECT("Object.prototype.toString.call(new DOMException('x'))", "[object DOMException]");
    EXPECT("try { DOMException('x') } catch (e) { e.name }", "TypeError");
    EXPECT("try { Object.getOwnPropertyDescriptor(DOMException.prototype, 'name').get.call({}) } catch (e) { e.name }",
           "TypeError");
}

Test(web_encoding, text_decoder_labels)
{
    EXPECT("new TextDecoder().encoding", "utf-8");
    EXPECT("new TextDecoder(' UTF8 ').encoding", "utf-8");
    EXPECT("new TextDecoder('latin1').encoding", "windows-1252");
    EXPECT("new TextDecoder('ISO-8859-1').encoding", "windows-1252");
    EXPECT("new TextDecoder('ascii').encoding", "windows-1252");
    EXPECT("new TextDecoder('utf-16').encoding", "utf-16le");
    EXPECT("new TextDecoder('utf-16be').encoding", "utf-16be");
    EXPECT("try { new TextDecoder('klingon') } catch (e) { e.name }", "RangeError");
    EXPECT("var d = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); d.fatal + ',' + d.ignoreBOM", "true,true");
}

Test(web_encoding, utf8_decoding_follows_the_standard)
{
    EXPECT("dec('utf-8', [0x68, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80])", "hé€😀");
    EXPECT("dec('utf-8', [0xf0, 0x9f, 0x98, 0x80]).length", "2");
    /* Maximal subparts: one U+FFFD per invalid sequence (Encoding Standard). */
    EXPECT("codes(dec('utf-8', [0x61, 0xff, 0x62]))", "61 fffd 62");
    EXPECT("codes(dec('utf-8', [0xed, 0xa0, 0x80]))", "fffd fffd fffd");
    EXPECT("codes(dec('utf-8', [0xf0, 0x9f, 0x98]))", "fffd");
    EXPECT("codes(dec('utf-8', [0xe2, 0x82, 0x41]))", "fffd 41");
    EXPECT("codes(dec('utf-8', [0xc0, 0x80]))", "fffd fffd");
    EXPECT("try { dec('utf-8', [0x61, 0xff], { fatal: true }) } catch (e) { e.name }", "TypeError");
    EXPECT("try { dec('utf-8', [0xe2, 0x82], { fatal: true }) } catch (e) { e.name }", "TypeError");
}

Test(web_encoding, bom_handling)
{
    EXPECT("dec('utf-8', [0xef, 0xbb, 0xbf, 0x41])", "A");
    EXPECT("codes(dec('utf-8', [0xef, 0xbb, 0xbf, 0x41], { ignoreBOM: true }))", "feff 41");
    EXPECT("codes(dec('utf-8', [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]))", "feff");
    EXPECT("dec('utf-16le', [0xff, 0xfe, 0x41, 0x00])", "A");
    EXPECT("dec('utf-16be', [0xfe, 0xff, 0x00, 0x41])", "A");
}

Test(web_encoding, streaming_keeps_partial_sequences)
{
    EXPECT("var d = new TextDecoder(); d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + '|' +"
           " d.decode(new Uint8Array([0xac]), { stream: true }) + '|' + d.decode()",
           "|€|");
    EXPECT("var d = new TextDecoder(); var s = ''; var b = [0xf0, 0x9f, 0x98, 0x80];"
           " for (var i = 0; i < 4; i++) s += d.decode(new Uint8Array([b[i]]), { stream: true }); s + d.decode()",
           "😀");
    EXPECT("var d = new TextDecoder(); codes(d.decode(new Uint8Array([0xe2, 0x82]), { stream: true }) + d.decode())",
           "fffd");
    EXPECT("var d = new TextDecoder('utf-16le'); d.decode(new Uint8Array([0x3d]), { stream: true }) +"
           " d.decode(new Uint8Array([0xd8, 0x00]), { stream: true }) + d.decode(new Uint8Array([0xde]))",
           "😀");
    /* A BOM is only stripped at the start of a stream. */
    EXPECT("var d = new TextDecoder(); codes(d.decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41]), { stream: true }) +"
           " d.decode(new Uint8Array([0xef, 0xbb, 0xbf])))",
           "41 feff");
}

Test(web_encoding, utf16_and_windows_1252)
{
    EXPECT("dec('utf-16le', [0x68, 0x00, 0x3d, 0xd8, 0x00, 0xde])", "h😀");
    EXPECT("codes(dec('utf-16le', [0x00, 0xd8, 0x41, 0x00]))", "fffd 41");
    EXPECT("codes(dec('utf-16le', [0x41]))", "fffd");
    EXPECT("try { dec('utf-16le', [0x00, 0xdc], { fatal: true }) } catch (e) { e.name }", "TypeError");
    EXPECT("codes(dec('latin1', [0x41, 0x80, 0x9f, 0xa0, 0xff]))", "41 20ac 178 a0 ff");
    EXPECT("codes(dec('ascii', [0x81, 0x8d]))", "81 8d");
}

Test(web_encoding, decode_accepts_buffer_sources)
{
    EXPECT("new TextDecoder().decode(new TextEncoder().encode('abc').buffer)", "abc");
    EXPECT("new TextDecoder().decode(new DataView(new TextEncoder().encode('xaby').buffer, 1, 2))", "ab");
    EXPECT("new TextDecoder().decode(undefined)", "");
    EXPECT("try { new TextDecoder().decode('abc') } catch (e) { e.name }", "TypeError");
}

Test(web_encoding, encode_into)
{
    EXPECT("var u = new Uint8Array(8); var r = new TextEncoder().encodeInto('h\\u00e9\\u20ac', u);"
           " r.read + ',' + r.written + ',' + Array.prototype.join.call(u.subarray(0, r.written))",
           "3,6,104,195,169,226,130,172");
    EXPECT("var r = new TextEncoder().encodeInto('a\\ud83d\\ude00b', new Uint8Array(5)); r.read + ',' + r.written", "3,5");
    EXPECT("var r = new TextEncoder().encodeInto('a\\ud83d\\ude00b', new Uint8Array(4)); r.read + ',' + r.written", "1,1");
    EXPECT("var r = new TextEncoder().encodeInto('\\u20ac\\u20ac', new Uint8Array(5)); r.read + ',' + r.written", "1,3");
    EXPECT("var u = new Uint8Array(3); var r = new TextEncoder().encodeInto('\\ud800', u); r.read + ',' + r.written + ',' + u[0]",
           "1,3,239");
    EXPECT("try { new TextEncoder().encodeInto('a', new Uint16Array(2)) } catch (e) { e.name }", "TypeError");
}
