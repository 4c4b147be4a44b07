/*
 * urlpattern.js — URLPattern, following the URL Pattern Standard (https://urlpattern.spec.whatwg.org/):
 * the pattern tokenizer, the constructor string parser, the pattern parser, the generation of the regular
 * expression and of the normalized pattern string for each component, URLPatternInit processing, and match.
 *
 * Loaded on first use of the global (lib/web/urlpattern.c), called as `function (native, global)`, and
 * returns the constructor. native.urlCanon(kind, value[, protocol]) is the URL parser's canonicalization of one
 * component (kinds in K below; throws TypeError when the parser refuses the value), and
 * native.isNameCodePoint(cp, first) the ECMAScript identifier classes used for group names.
 *
 * Duktape's RegExp has no 'v'/'u' flag, so the generated expressions run without it: matching is per UTF-16
 * unit (a wildcard may split a surrogate pair only where the pattern text itself does).
 */
function (native, global) {
    'use strict';

    var TypeError = global.TypeError, RegExp = global.RegExp, String = global.String, URL = global.URL;
    var states = new global.WeakMap();

    var K = { protocol: 0, username: 1, password: 2, hostname: 3, port: 4, pathname: 5, opaque: 6, search: 7,
              hash: 8 };
    var COMPONENTS = ['protocol', 'username', 'password', 'hostname', 'port', 'pathname', 'search', 'hash'];
    var SPECIAL = ['ftp', 'file', 'http', 'https', 'ws', 'wss'];
    var DEFAULT_PORT = { ftp: '21', http: '80', https: '443', ws: '80', wss: '443' };
    var FULL_WILDCARD = '.*';

    function fail(what) {
        throw new TypeError("Failed to construct 'URLPattern': " + what);
    }

    function has(list, v) {
        return list.indexOf(v) >= 0;
    }

    /* The string as an array of code points (each a string of one or two UTF-16 units). */
    function codePoints(s) {
        var out = [], i, c, d;
        for (i = 0; i < s.length; i++) {
            c = s.charCodeAt(i);
            if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
                d = s.charCodeAt(i + 1);
                if (d >= 0xdc00 && d <= 0xdfff) {
                    out.push(s.charAt(i) + s.charAt(i + 1));
                    i++;
                    continue;
                }
            }
            out.push(s.charAt(i));
        }
        return out;
    }

    function codePointValue(cp) {
        if (cp.length === 2) {
            return (cp.charCodeAt(0) - 0xd800) * 0x400 + (cp.charCodeAt(1) - 0xdc00) + 0x10000;
        }
        return cp.charCodeAt(0);
    }

    function isNameCodePoint(cp, first) {
        return native.isNameCodePoint(codePointValue(cp), first);
    }

    /* ---- tokenizer ---- */

    function tokenize(input, lenient) {
        var cps = codePoints(input), n = cps.length, tokens = [], index = 0, next = 0, cp;

        function add(type, nextPos, valuePos, valueLen) {
            tokens.push({ type: type, index: index, value: cps.slice(valuePos, valuePos + valueLen).join('') });
            index = nextPos;
        }
        function addLen(type, nextPos, valuePos) {
            add(type, nextPos, valuePos, nextPos - valuePos);
        }
        function error(nextPos, valuePos) {
            if (!lenient) {
                fail('invalid pattern "' + input + '" at ' + valuePos + '.');
            }
            addLen('invalid-char', nextPos, valuePos);
        }
        function getNext() {
            cp = cps[next];
            next++;
        }
        function seek(i) {
            next = i;
            getNext();
        }

        while (index < n) {
            seek(index);
            if (cp === '*') {
                addLen('asterisk', next, index);
            } else if (cp === '+' || cp === '?') {
                addLen('other-modifier', next, index);
            } else if (cp === '\\') {
                if (index === n - 1) {
                    error(next, index);
                    continue;
                }
                var escaped = next;
                getNext();
                addLen('escaped-char', next, escaped);
            } else if (cp === '{') {
                addLen('open', next, index);
            } else if (cp === '}') {
                addLen('close', next, index);
            } else if (cp === ':') {
                var pos = next, start = pos;
                while (pos < n) {
                    seek(pos);
                    if (!isNameCodePoint(cp, pos === start)) {
                        break;
                    }
                    pos = next;
                }
                if (pos <= start) {
                    error(start, index);
                    continue;
                }
                addLen('name', pos, start);
            } else if (cp === '(') {
                var depth = 1, rpos = next, rstart = rpos, bad = false;
                while (rpos < n) {
                    seek(rpos);
                    if (cp.length > 1 || cp.charCodeAt(0) > 0x7f || (rpos === rstart && cp === '?')) {
                        bad = true;
                        break;
                    }
                    if (cp === '\\') {
                        if (rpos === n - 1) {
                            bad = true;
                            break;
                        }
                        getNext();
                        if (cp.length > 1 || cp.charCodeAt(0) > 0x7f) {
                            bad = true;
                            break;
                        }
                        rpos = next;
                        continue;
                    }
                    if (cp === ')') {
                        depth--;
                        if (depth === 0) {
                            rpos = next;
                            break;
                        }
                    } else if (cp === '(') {
                        depth++;
                        if (rpos === n - 1) {
                            bad = true;
                            break;
                        }
                        var back = next;
                        getNext();
                        if (cp !== '?') {
                            bad = true;
                            break;
                        }
                        next = back;
                    }
                    rpos = next;
                }
                if (bad || depth !== 0 || rpos - rstart - 1 === 0) {
                    error(rstart, index);
                    continue;
                }
                add('regexp', rpos, rstart, rpos - rstart - 1);
            } else {
                addLen('char', next, index);
            }
        }
        addLen('end', index, index);
        return tokens;
    }

    /* ---- pattern strings → part lists ---- */

    function escapeRegexp(s) {
        return s.replace(/[.+*?^${}()\[\]|\/\\]/g, '\\$&');
    }

    function escapePattern(s) {
        return s.replace(/[+*?:{}()\\]/g, '\\$&');
    }

    function segmentWildcard(options) {
        return '[^' + escapeRegexp(options.delimiter) + ']+?';
    }

    function modifierString(m) {
        return m === 'zero-or-more' ? '*' : m === 'optional' ? '?' : m === 'one-or-more' ? '+' : '';
    }

    function parsePattern(input, options, encode) {
        var tokens = tokenize(input, false), parts = [], pending = '', i = 0, nextNumeric = 0;
        var segWild = segmentWildcard(options);

        function consume(type) {
            var t = tokens[i];
            if (t.type !== type) {
                return null;
            }
            i++;
            return t;
        }
        function consumeModifier() {
            return consume('other-modifier') || consume('asterisk');
        }
        function consumeRegexpOrWildcard(nameToken) {
            var t = consume('regexp');
            if (nameToken === null && t === null) {
                t = consume('asterisk');
            }
            return t;
        }
        function required(type) {
            var t = consume(type);
            if (t === null) {
                fail('invalid pattern "' + input + '": unexpected "' + tokens[i].value + '".');
            }
            return t;
        }
        function consumeText() {
            var r = '', t;
            while ((t = consume('char') || consume('escaped-char')) !== null) {
                r += t.value;
            }
            return r;
        }
        function flushPending() {
            if (pending === '') {
                return;
            }
            var value = encode(pending);
            pending = '';
            parts.push({ type: 'fixed-text', value: value, modifier: 'none', name: '', prefix: '', suffix: '' });
        }
        function addPart(prefix, nameToken, regexpToken, suffix, modifierToken) {
            var modifier = 'none';
            if (modifierToken !== null) {
                modifier = modifierToken.value === '?' ? 'optional'
                    : modifierToken.value === '*' ? 'zero-or-more' : 'one-or-more';
            }
            if (nameToken === null && regexpToken === null && modifier === 'none') {
                pending += prefix;
                return;
            }
            flushPending();
            if (nameToken === null && regexpToken === null) {
                if (prefix !== '') {
                    parts.push({ type: 'fixed-text', value: encode(prefix), modifier: modifier, name: '',
                                 prefix: '', suffix: '' });
                }
                return;
            }
            var value = regexpToken === null ? segWild
                : regexpToken.type === 'asterisk' ? FULL_WILDCARD : regexpToken.value;
            var type = 'regexp';
            if (value === segWild) {
                type = 'segment-wildcard';
                value = '';
            } else if (value === FULL_WILDCARD) {
                type = 'full-wildcard';
                value = '';
            }
            var name;
            if (nameToken !== null) {
                name = nameToken.value;
            } else {
                name = String(nextNumeric++);
            }
            for (var k = 0; k < parts.length; k++) {
                if (parts[k].name === name) {
                    fail('invalid pattern "' + input + '": duplicate group name "' + name + '".');
                }
            }
            parts.push({ type: type, value: value, modifier: modifier, name: name, prefix: encode(prefix),
                         suffix: encode(suffix) });
        }

        while (i < tokens.length) {
            var charToken = consume('char');
            var nameToken = consume('name');
            var regexpToken = consumeRegexpOrWildcard(nameToken);
            if (nameToken !== null || regexpToken !== null) {
                var prefix = charToken !== null ? charToken.value : '';
                if (prefix !== '' && prefix !== options.prefix) {
                    pending += prefix;
                    prefix = '';
                }
                flushPending();
                addPart(prefix, nameToken, regexpToken, '', consumeModifier());
                continue;
            }
            var fixed = charToken || consume('escaped-char');
            if (fixed !== null) {
                pending += fixed.value;
                continue;
            }
            if (consume('open') !== null) {
                var pre = consumeText();
                nameToken = consume('name');
                regexpToken = consumeRegexpOrWildcard(nameToken);
                var suf = consumeText();
                required('close');
                addPart(pre, nameToken, regexpToken, suf, consumeModifier());
                continue;
            }
            flushPending();
            required('end');
        }
        return parts;
    }

    /* ---- part lists → regular expressions and pattern strings ---- */

    /* A regexp group's text as Duktape's RegExp takes it, with the checks of the 'v' flag Duktape lacks:
     * identity escapes only of syntax characters (so "\\m" is an error, as in Chromium), and named groups
     * "(?<name>...)" turned into plain groups (same numbering; Duktape has no named groups). */
    var ESCAPES = 'dDwWsSbBfnrtv0123456789cxukpP^$\\.*+?()[]{}|/';
    function regexpSource(value) {
        var out = '', inClass = false;
        for (var i = 0; i < value.length; i++) {
            var c = value.charAt(i);
            if (c === '\\') {
                var e = value.charAt(i + 1);
                if (ESCAPES.indexOf(e) < 0 && !(inClass && e === '-')) {
                    fail('invalid escape "\\' + e + '" in the regular expression "' + value + '".');
                }
                out += c + e;
                i++;
            } else if (inClass) {
                inClass = c !== ']';
                out += c;
            } else if (c === '[') {
                inClass = true;
                out += c;
            } else if (c === '(' && value.substr(i + 1, 2) === '?<' && value.charAt(i + 3) !== '=' &&
                       value.charAt(i + 3) !== '!') {
                var close = value.indexOf('>', i);
                if (close < 0) {
                    fail('invalid group name in the regular expression "' + value + '".');
                }
                out += '(';
                i = close;
            } else {
                out += c;
            }
        }
        return out;
    }

    function generateRegexp(parts, options) {
        var result = '^', names = [], segWild = segmentWildcard(options);
        for (var i = 0; i < parts.length; i++) {
            var part = parts[i], mod = modifierString(part.modifier);
            if (part.type === 'fixed-text') {
                result += part.modifier === 'none' ? escapeRegexp(part.value)
                    : '(?:' + escapeRegexp(part.value) + ')' + mod;
                continue;
            }
            names.push(part.name);
            var value = part.type === 'segment-wildcard' ? segWild
                : part.type === 'full-wildcard' ? FULL_WILDCARD : regexpSource(part.value);
            var repeat = part.modifier === 'zero-or-more' || part.modifier === 'one-or-more';
            if (part.prefix === '' && part.suffix === '') {
                result += repeat ? '((?:' + value + ')' + mod + ')' : '(' + value + ')' + mod;
                continue;
            }
            var prefix = escapeRegexp(part.prefix), suffix = escapeRegexp(part.suffix);
            if (!repeat) {
                result += '(?:' + prefix + '(' + value + ')' + suffix + ')' + mod;
                continue;
            }
            result += '(?:' + prefix + '((?:' + value + ')(?:' + suffix + prefix + '(?:' + value + '))*)' + suffix + ')';
            if (part.modifier === 'zero-or-more') {
                result += '?';
            }
        }
        return { source: result + '$', names: names };
    }

    function isAsciiDigit(c) {
        return c >= '0' && c <= '9';
    }

    function generatePatternString(parts, options) {
        var result = '';
        for (var i = 0; i < parts.length; i++) {
            var part = parts[i];
            var prev = i > 0 ? parts[i - 1] : null, next = i < parts.length - 1 ? parts[i + 1] : null;
            if (part.type === 'fixed-text') {
                if (part.modifier === 'none') {
                    result += escapePattern(part.value);
                } else {
                    result += '{' + escapePattern(part.value) + '}' + modifierString(part.modifier);
                }
                continue;
            }
            var customName = !isAsciiDigit(part.name.charAt(0));
            var grouping = part.suffix !== '' || (part.prefix !== '' && part.prefix !== options.prefix);
            if (!grouping && customName && part.type === 'segment-wildcard' && part.modifier === 'none' &&
                next !== null && next.prefix === '' && next.suffix === '') {
                if (next.type === 'fixed-text') {
                    grouping = next.value !== '' && isNameCodePoint(codePoints(next.value)[0], false);
                } else {
                    grouping = isAsciiDigit(next.name.charAt(0));
                }
            }
            if (!grouping && part.prefix === '' && prev !== null && prev.type === 'fixed-text' &&
                prev.value !== '' && prev.value.charAt(prev.value.length - 1) === options.prefix) {
                grouping = true;
            }
            if (grouping) {
                result += '{';
            }
            result += escapePattern(part.prefix);
            if (customName) {
                result += ':' + part.name;
            }
            if (part.type === 'regexp') {
                result += '(' + part.value + ')';
            } else if (part.type === 'segment-wildcard' && !customName) {
                result += '(' + segmentWildcard(options) + ')';
            } else if (part.type === 'full-wildcard') {
                if (!customName && (prev === null || prev.type === 'fixed-text' || prev.modifier !== 'none' ||
                                    grouping || part.prefix !== '')) {
                    result += '*';
                } else {
                    result += '(' + FULL_WILDCARD + ')';
                }
            }
            if (part.type === 'segment-wildcard' && customName && part.suffix !== '' &&
                isNameCodePoint(codePoints(part.suffix)[0], false)) {
                result += '\\';
            }
            result += escapePattern(part.suffix);
            if (grouping) {
                result += '}';
            }
            result += modifierString(part.modifier);
        }
        return result;
    }

    /* ---- canonicalization (the encoding callbacks) ---- */

    function canon(kind) {
        return function (value) {
            return value === '' ? value : native.urlCanon(K[kind], value);
        };
    }

    var canonProtocol = canon('protocol'), canonUsername = canon('username'), canonPassword = canon('password');
    var canonHostname = canon('hostname'), canonOpaquePathname = canon('opaque'), canonSearch = canon('search');
    var canonHash = canon('hash');

    function canonPort(value, protocol) {
        if (value === '') {
            return value;
        }
        return protocol === undefined ? native.urlCanon(K.port, value) : native.urlCanon(K.port, value, protocol);
    }

    /* The pattern's port text is canonicalized without a scheme, so that no digits are taken for a default
     * port ("443*" stays "443*" for https, as WPT and Chromium have it; the dummy https URL would drop them). */
    function canonPortNoProtocol(value) {
        return canonPort(value, '');
    }

    function canonPathname(value) {
        if (value === '') {
            return value;
        }
        var leading = value.charAt(0) === '/';
        var result = native.urlCanon(K.pathname, leading ? value : '/-' + value);
        return leading ? result : result.substring(2);
    }

    function canonIPv6Hostname(value) {
        var result = '';
        for (var i = 0; i < value.length; i++) {
            var c = value.charAt(i);
            if (!/[0-9A-Fa-f\[\]:]/.test(c)) {
                fail('invalid IPv6 hostname "' + value + '".');
            }
            result += c.toLowerCase();
        }
        return result;
    }

    /* ---- components ---- */

    var DEFAULT_OPTIONS = { delimiter: '', prefix: '', ignoreCase: false };
    var HOSTNAME_OPTIONS = { delimiter: '.', prefix: '', ignoreCase: false };

    function withCase(options, ignoreCase) {
        return { delimiter: options.delimiter, prefix: options.prefix, ignoreCase: ignoreCase };
    }

    function compileComponent(input, encode, options) {
        var parts = parsePattern(input, options, encode);
        var gen = generateRegexp(parts, options);
        var regexp;
        try {
            regexp = new RegExp(gen.source, options.ignoreCase ? 'i' : '');
        } catch (e) {
            fail('invalid regular expression in "' + input + '": ' + e.message);
        }
        var groups = false;
        for (var i = 0; i < parts.length; i++) {
            groups = groups || parts[i].type === 'regexp';
        }
        return { pattern: generatePatternString(parts, options), regexp: regexp, names: gen.names,
                 hasRegExpGroups: groups };
    }

    function matchesSpecialScheme(component) {
        for (var i = 0; i < SPECIAL.length; i++) {
            if (component.regexp.exec(SPECIAL[i]) !== null) {
                return true;
            }
        }
        return false;
    }

    function isIPv6Pattern(s) {
        if (s.length < 2) {
            return false;
        }
        var a = s.charAt(0), b = s.charAt(1);
        return a === '[' || ((a === '{' || a === '\\') && b === '[');
    }

    /* ---- the constructor string parser ---- */

    function parseConstructorString(input) {
        var cps = codePoints(input), tokens = tokenize(input, true), result = {};
        var componentStart = 0, tokenIndex = 0, tokenIncrement = 1, groupDepth = 0, ipv6Depth = 0;
        var special = false, state = 'init';

        function safeToken(i) {
            return i < tokens.length ? tokens[i] : tokens[tokens.length - 1];
        }
        function isChar(i, value) {
            var t = safeToken(i);
            return t.value === value && (t.type === 'char' || t.type === 'escaped-char' || t.type === 'invalid-char');
        }
        function isHashPrefix() {
            return isChar(tokenIndex, '#');
        }
        function isSearchPrefix() {
            if (isChar(tokenIndex, '?')) {
                return true;
            }
            if (tokens[tokenIndex].value !== '?') {
                return false;
            }
            if (tokenIndex - 1 < 0) {
                return true;
            }
            var prev = safeToken(tokenIndex - 1).type;
            return prev !== 'name' && prev !== 'regexp' && prev !== 'close' && prev !== 'asterisk';
        }
        function makeComponentString() {
            var token = tokens[tokenIndex], start = safeToken(componentStart);
            return cps.slice(start.index, token.index).join('');
        }
        function changeState(next, skip) {
            if (state !== 'init' && state !== 'authority' && state !== 'done') {
                result[state] = makeComponentString();
            }
            if (state !== 'init' && next !== 'done') {
                var early = has(['protocol', 'authority', 'username', 'password'], state);
                if (early && has(['port', 'pathname', 'search', 'hash'], next) && !('hostname' in result)) {
                    result.hostname = '';
                }
                var beforePath = early || state === 'hostname' || state === 'port';
                if (beforePath && (next === 'search' || next === 'hash') && !('pathname' in result)) {
                    result.pathname = special ? '/' : '';
                }
                if ((beforePath || state === 'pathname') && next === 'hash' && !('search' in result)) {
                    result.search = '';
                }
            }
            state = next;
            tokenIndex += skip;
            componentStart = tokenIndex;
            tokenIncrement = 0;
        }
        function rewind() {
            tokenIndex = componentStart;
            tokenIncrement = 0;
        }
        function rewindAndSetState(next) {
            rewind();
            state = next;
        }

        while (tokenIndex < tokens.length) {
            tokenIncrement = 1;
            var token = tokens[tokenIndex];
            if (token.type === 'end') {
                if (state === 'init') {
                    rewind();
                    if (isHashPrefix()) {
                        changeState('hash', 1);
                    } else if (isSearchPrefix()) {
                        changeState('search', 1);
                    } else {
                        changeState('pathname', 0);
                    }
                    tokenIndex += tokenIncrement;
                    continue;
                }
                if (state === 'authority') {
                    rewindAndSetState('hostname');
                    tokenIndex += tokenIncrement;
                    continue;
                }
                changeState('done', 0);
                break;
            }
            if (token.type === 'open') {
                groupDepth++;
                tokenIndex += tokenIncrement;
                continue;
            }
            if (groupDepth > 0) {
                if (token.type === 'close') {
                    groupDepth--;
                } else {
                    tokenIndex += tokenIncrement;
                    continue;
                }
            }
            switch (state) {
            case 'init':
                if (isChar(tokenIndex, ':')) {
                    rewindAndSetState('protocol');
                }
                break;
            case 'protocol':
                if (isChar(tokenIndex, ':')) {
                    var protocol = compileComponent(makeComponentString(), canonProtocol, DEFAULT_OPTIONS);
                    special = matchesSpecialScheme(protocol);
                    var next = 'pathname', skip = 1;
                    if (isChar(tokenIndex + 1, '/') && isChar(tokenIndex + 2, '/')) {
                        next = 'authority';
                        skip = 3;
                    } else if (special) {
                        next = 'authority';
                    }
                    changeState(next, skip);
                }
                break;
            case 'authority':
                if (isChar(tokenIndex, '@')) {
                    rewindAndSetState('username');
                } else if (isChar(tokenIndex, '/') || isSearchPrefix() || isHashPrefix()) {
                    rewindAndSetState('hostname');
                }
                break;
            case 'username':
                if (isChar(tokenIndex, ':')) {
                    changeState('password', 1);
                } else if (isChar(tokenIndex, '@')) {
                    changeState('hostname', 1);
                }
                break;
            case 'password':
                if (isChar(tokenIndex, '@')) {
                    changeState('hostname', 1);
                }
                break;
            case 'hostname':
                if (isChar(tokenIndex, '[')) {
                    ipv6Depth++;
                } else if (isChar(tokenIndex, ']')) {
                    ipv6Depth--;
                } else if (isChar(tokenIndex, ':') && ipv6Depth === 0) {
                    changeState('port', 1);
                } else if (isChar(tokenIndex, '/')) {
                    changeState('pathname', 0);
                } else if (isSearchPrefix()) {
                    changeState('search', 1);
                } else if (isHashPrefix()) {
                    changeState('hash', 1);
                }
                break;
            case 'port':
                if (isChar(tokenIndex, '/')) {
                    changeState('pathname', 0);
                } else if (isSearchPrefix()) {
                    changeState('search', 1);
                } else if (isHashPrefix()) {
                    changeState('hash', 1);
                }
                break;
            case 'pathname':
                if (isSearchPrefix()) {
                    changeState('search', 1);
                } else if (isHashPrefix()) {
                    changeState('hash', 1);
                }
                break;
            case 'search':
                if (isHashPrefix()) {
                    changeState('hash', 1);
                }
                break;
            }
            tokenIndex += tokenIncrement;
        }
        if ('hostname' in result && !('port' in result)) {
            result.port = '';
        }
        return result;
    }

    /* ---- URLPatternInit processing ---- */

    /* WebIDL: the dictionary's members that are present, as strings. */
    function toInit(value, what) {
        var init = {};
        if (value === undefined || value === null) {
            return init;
        }
        if (typeof value !== 'object' && typeof value !== 'function') {
            throw new TypeError(what + ': the input is not a string or an object.');
        }
        var members = COMPONENTS.concat(['baseURL']);
        for (var i = 0; i < members.length; i++) {
            var v = value[members[i]];
            if (v !== undefined) {
                init[members[i]] = String(v);
            }
        }
        return init;
    }

    function baseString(input, type) {
        return type === 'pattern' ? escapePattern(input) : input;
    }

    function isAbsolutePathname(input, type) {
        if (input === '') {
            return false;
        }
        if (input.charAt(0) === '/') {
            return true;
        }
        if (type === 'url' || input.length < 2) {
            return false;
        }
        return (input.charAt(0) === '\\' || input.charAt(0) === '{') && input.charAt(1) === '/';
    }

    function parseURL(s, base) {
        try {
            return base === undefined ? new URL(s) : new URL(s, base);
        } catch (e) {
            return null;
        }
    }

    function stripFirst(s, c) {
        return s.charAt(0) === c ? s.substring(1) : s;
    }

    function processInit(init, type, defaults) {
        var result = {}, i;
        for (i = 0; i < COMPONENTS.length; i++) {
            if (defaults !== null) {
                result[COMPONENTS[i]] = defaults[COMPONENTS[i]];
            }
        }
        var base = null;
        if ('baseURL' in init) {
            base = parseURL(init.baseURL);
            if (base === null) {
                throw new TypeError('Invalid baseURL "' + init.baseURL + '".');
            }
            var hasAny = function (names) {
                for (var j = 0; j < names.length; j++) {
                    if (names[j] in init) {
                        return true;
                    }
                }
                return false;
            };
            if (!('protocol' in init)) {
                result.protocol = baseString(base.protocol.slice(0, -1), type);
            }
            if (type !== 'pattern' && !hasAny(['protocol', 'hostname', 'port', 'username'])) {
                result.username = baseString(base.username, type);
            }
            if (type !== 'pattern' && !hasAny(['protocol', 'hostname', 'port', 'username', 'password'])) {
                result.password = baseString(base.password, type);
            }
            if (!hasAny(['protocol', 'hostname'])) {
                result.hostname = baseString(base.hostname, type);
            }
            if (!hasAny(['protocol', 'hostname', 'port'])) {
                result.port = base.port;
            }
            if (!hasAny(['protocol', 'hostname', 'port', 'pathname'])) {
                result.pathname = baseString(base.pathname, type);
            }
            if (!hasAny(['protocol', 'hostname', 'port', 'pathname', 'search'])) {
                result.search = baseString(stripFirst(base.search, '?'), type);
            }
            if (!hasAny(['protocol', 'hostname', 'port', 'pathname', 'search', 'hash'])) {
                result.hash = baseString(stripFirst(base.hash, '#'), type);
            }
        }
        var pattern = type === 'pattern';
        if ('protocol' in init) {
            var protocol = init.protocol;
            if (protocol.charAt(protocol.length - 1) === ':') {
                protocol = protocol.slice(0, -1);
            }
            result.protocol = pattern ? protocol : canonProtocol(protocol);
        }
        if ('username' in init) {
            result.username = pattern ? init.username : canonUsername(init.username);
        }
        if ('password' in init) {
            result.password = pattern ? init.password : canonPassword(init.password);
        }
        if ('hostname' in init) {
            result.hostname = pattern ? init.hostname : canonHostname(init.hostname);
        }
        var protocolString = result.protocol !== undefined && result.protocol !== null ? result.protocol : '';
        if ('port' in init) {
            result.port = pattern ? init.port : canonPort(init.port, protocolString);
        }
        if ('pathname' in init) {
            var pathname = init.pathname;
            if (base !== null && base.href.charAt(base.protocol.length) === '/' &&
                !isAbsolutePathname(pathname, type)) {
                var basePath = baseString(base.pathname, type);
                var slash = basePath.lastIndexOf('/');
                if (slash >= 0) {
                    pathname = basePath.substring(0, slash + 1) + pathname;
                }
            }
            if (!pattern) {
                pathname = protocolString === '' || has(SPECIAL, protocolString) ? canonPathname(pathname)
                    : canonOpaquePathname(pathname);
            }
            result.pathname = pathname;
        }
        if ('search' in init) {
            var search = stripFirst(init.search, '?');
            result.search = pattern ? search : canonSearch(search);
        }
        if ('hash' in init) {
            var hash = stripFirst(init.hash, '#');
            result.hash = pattern ? hash : canonHash(hash);
        }
        return result;
    }

    /* ---- create and match ---- */

    function create(input, baseURL, options) {
        var init;
        if (typeof input === 'string') {
            init = parseConstructorString(input);
            if (baseURL === null && !('protocol' in init)) {
                fail('relative constructor string "' + input + '" must have a base URL passed as the second argument.');
            }
            if (baseURL !== null) {
                init.baseURL = baseURL;
            }
        } else {
            if (baseURL !== null) {
                fail('a base URL must not be given with a URLPatternInit object.');
            }
            init = input;
        }
        var processed = processInit(init, 'pattern', null);
        for (var i = 0; i < COMPONENTS.length; i++) {
            if (processed[COMPONENTS[i]] === undefined) {
                processed[COMPONENTS[i]] = '*';
            }
        }
        if (has(SPECIAL, processed.protocol) && processed.port === DEFAULT_PORT[processed.protocol]) {
            processed.port = '';
        }
        var ignoreCase = options.ignoreCase;
        var p = {};
        p.protocol = compileComponent(processed.protocol, canonProtocol, DEFAULT_OPTIONS);
        p.username = compileComponent(processed.username, canonUsername, DEFAULT_OPTIONS);
        p.password = compileComponent(processed.password, canonPassword, DEFAULT_OPTIONS);
        p.hostname = compileComponent(processed.hostname,
                                      isIPv6Pattern(processed.hostname) ? canonIPv6Hostname : canonHostname,
                                      HOSTNAME_OPTIONS);
        p.port = compileComponent(processed.port, canonPortNoProtocol, DEFAULT_OPTIONS);
        if (matchesSpecialScheme(p.protocol)) {
            p.pathname = compileComponent(processed.pathname, canonPathname,
                                          { delimiter: '/', prefix: '/', ignoreCase: ignoreCase });
        } else {
            p.pathname = compileComponent(processed.pathname, canonOpaquePathname,
                                          withCase(DEFAULT_OPTIONS, ignoreCase));
        }
        p.search = compileComponent(processed.search, canonSearch, withCase(DEFAULT_OPTIONS, ignoreCase));
        p.hash = compileComponent(processed.hash, canonHash, withCase(DEFAULT_OPTIONS, ignoreCase));
        return p;
    }

    function isInitObject(v) {
        return v === undefined || v === null || typeof v === 'object' || typeof v === 'function';
    }

    function match(p, input, baseURL, what) {
        var values, inputs;
        if (isInitObject(input)) {
            var init = toInit(input, what);
            inputs = [init];
            if (baseURL !== undefined) {
                throw new TypeError(what + ': a base URL must not be given with a URLPatternInit object.');
            }
            try {
                values = processInit(init, 'url', { protocol: '', username: '', password: '', hostname: '',
                                                    port: '', pathname: '', search: '', hash: '' });
            } catch (e) {
                return null;
            }
        } else {
            input = String(input);
            inputs = [input];
            var base;
            if (baseURL !== undefined) {
                base = String(baseURL);
                if (parseURL(base) === null) {
                    return null;
                }
                inputs.push(base);
            }
            var url = parseURL(input, base);
            if (url === null) {
                return null;
            }
            values = { protocol: url.protocol.slice(0, -1), username: url.username, password: url.password,
                       hostname: url.hostname, port: url.port, pathname: url.pathname,
                       search: stripFirst(url.search, '?'), hash: stripFirst(url.hash, '#') };
        }
        var execs = {}, i, name;
        for (i = 0; i < COMPONENTS.length; i++) {
            name = COMPONENTS[i];
            execs[name] = p[name].regexp.exec(values[name]);
            if (execs[name] === null) {
                return null;
            }
        }
        var result = { inputs: inputs };
        for (i = 0; i < COMPONENTS.length; i++) {
            name = COMPONENTS[i];
            var groups = {}, names = p[name].names, exec = execs[name];
            for (var j = 0; j < names.length; j++) {
                groups[names[j]] = exec[j + 1];
            }
            result[name] = { input: values[name], groups: groups };
        }
        return result;
    }

    /* ---- the class ---- */

    function state(self, what) {
        var p = states.get(self);
        if (p === undefined) {
            throw new TypeError("Illegal invocation: 'URLPattern." + what + "' called on an object that is not a URLPattern.");
        }
        return p;
    }

    function URLPattern(input, baseURL, options) {
        if (!(this instanceof URLPattern) || states.has(this)) {
            throw new TypeError("Failed to construct 'URLPattern': Please use the 'new' operator.");
        }
        if (arguments.length < 2 || isInitObject(baseURL)) {
            options = baseURL;
            baseURL = null;
        } else {
            baseURL = String(baseURL);
        }
        if (options !== undefined && options !== null && typeof options !== 'object' && typeof options !== 'function') {
            fail('the options argument is not an object.');
        }
        var ignoreCase = options !== undefined && options !== null && !!options.ignoreCase;
        if (!isInitObject(input)) {
            input = String(input);
        } else {
            input = toInit(input, "Failed to construct 'URLPattern'");
        }
        states.set(this, create(input, baseURL, { ignoreCase: ignoreCase }));
    }

    var proto = URLPattern.prototype;
    function hide(obj, name, value) {
        global.Object.defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    hide(proto, 'test', function test(input, baseURL) {
        return match(state(this, 'test'), input, baseURL, "Failed to execute 'test' on 'URLPattern'") !== null;
    });
    hide(proto, 'exec', function exec(input, baseURL) {
        return match(state(this, 'exec'), input, baseURL, "Failed to execute 'exec' on 'URLPattern'");
    });
    COMPONENTS.forEach(function (name) {
        global.Object.defineProperty(proto, name, {
            get: function () {
                return state(this, name)[name].pattern;
            },
            enumerable: true,
            configurable: true
        });
    });
    global.Object.defineProperty(proto, 'hasRegExpGroups', {
        get: function () {
            var p = state(this, 'hasRegExpGroups');
            for (var i = 0; i < COMPONENTS.length; i++) {
                if (p[COMPONENTS[i]].hasRegExpGroups) {
                    return true;
                }
            }
            return false;
        },
        enumerable: true,
        configurable: true
    });
    if (global.Symbol && global.Symbol.toStringTag) {
        global.Object.defineProperty(proto, global.Symbol.toStringTag, { value: 'URLPattern', configurable: true });
    }
    global.Object.defineProperty(URLPattern, 'length', { value: 0, configurable: true });
    return { URLPattern: URLPattern };
}
