/*
 * helpers_regex.js — the `y` (sticky) and `d` (hasIndices) flags of regex literals, which Duktape's engine
 * lacks (lib/compile/lower_regex.c compiles such a literal with `g` and wraps it in $ew.regexFlags).
 *
 * Loaded on first use only (lib/core/dispatch.c installs a getter on the helper object). Called as
 * `function (native, global)`; returns the helpers. The wrapped regex gets own exec/test/toString and own
 * flag properties (Duktape's are accessors on RegExp.prototype, so own values shadow them):
 *   - exec reads lastIndex and runs the compiled global regex from there; for `y` the pattern was compiled
 *     as `(?:P)|()`, so the search ends at lastIndex and the last capture is set when P fails there (then
 *     exec fails); without `g`/`y` lastIndex is left as it was;
 *   - for `d` the pattern was rewritten with extra captures (lower_regex_indices.c); `map` gives, for each
 *     original group, its capture number and the signed capture numbers whose lengths add up to its start
 *     from match.index: results show the original groups only, with `.indices`.
 * Duktape's String.prototype.match/replace/search/split (and lib/core's matchAll) do not follow an
 * instance's exec, so regexFlagsInit (the first statement of a program with such literals; also the first
 * regexFlags call, for `new RegExp(s, 'y')`) wraps them once to follow the specification's RegExp
 * algorithms for these regexes only.
 */
function (native, global) {
    'use strict';

    var O = global.Object, defineProperty = O.defineProperty, create = O.create, floor = global.Math.floor;
    var RE = global.RegExp, nativeExec = RE.prototype.exec, nativeTest = RE.prototype.test;
    var sourceOf = O.getOwnPropertyDescriptor(RE.prototype, 'source').get;
    var SP = global.String.prototype, ORDER = 'dgimsuy', MAX = 9007199254740991;
    var STATE = global.Symbol('regexFlags'), patched = false;

    function toLength(v) {
        v = +v;
        if (!(v > 0)) { return 0; }
        v = floor(v);
        return v > MAX ? MAX : v;
    }

    function state(re) {
        return re !== null && typeof re === 'object' ? re[STATE] : undefined;
    }

    /* The raw match of the compiled regex re (state st) in the user's shape. */
    function shape(raw, st) {
        var m = raw, names = st.names, map = st.map, i, j, k, f, start, v, ind, g, gi;
        if (map) {
            m = [raw[0]];
            for (i = 0; i < map.length; i++) { m.push(raw[map[i][0]]); }
            m.index = raw.index;
            m.input = raw.input;
        }
        g = undefined;
        if (names) {
            g = create(null);
            for (i = 0; i < names.length; i++) {
                if (names[i] !== null) { g[names[i]] = m[i + 1]; }
            }
        }
        defineProperty(m, 'groups', { value: g, writable: true, enumerable: true, configurable: true });
        if (st.indices) {
            ind = [[m.index, m.index + m[0].length]];
            for (i = 0; i < map.length; i++) {
                v = raw[map[i][0]];
                if (v === undefined) {
                    ind.push(undefined);
                    continue;
                }
                start = m.index;
                f = map[i];
                for (j = 1; j < f.length; j++) {
                    k = f[j] < 0 ? -f[j] : f[j];
                    if (raw[k] !== undefined) { start += f[j] < 0 ? -raw[k].length : raw[k].length; }
                }
                ind.push([start, start + v.length]);
            }
            gi = undefined;
            if (names) {
                gi = create(null);
                for (i = 0; i < names.length; i++) {
                    if (names[i] !== null) { gi[names[i]] = ind[i + 1]; }
                }
            }
            defineProperty(ind, 'groups', { value: gi, writable: true, enumerable: true, configurable: true });
            defineProperty(m, 'indices', { value: ind, writable: true, enumerable: true, configurable: true });
        }
        return m;
    }

    /* RegExpBuiltinExec for a wrapped regex. */
    function exec(s) {
        var st = state(this), saved, li, raw;
        if (!st) { return nativeExec.call(this, s); }
        s = String(s);
        saved = this.lastIndex;
        li = toLength(saved);
        if (!st.global && !st.sticky) { li = 0; }
        if (li > s.length) {
            if (st.global || st.sticky) { this.lastIndex = 0; }
            return null;
        }
        this.lastIndex = li;
        raw = nativeExec.call(this, s);
        if (raw !== null && st.sticky) {
            if (raw.index !== li || raw[raw.length - 1] !== undefined) {
                raw = null;
            } else {
                raw.length--; /* the `()` of `(?:P)|()` */
            }
        }
        if (raw === null) {
            this.lastIndex = st.global || st.sticky ? 0 : saved;
            return null;
        }
        if (!st.global && !st.sticky) { this.lastIndex = saved; }
        return shape(raw, st);
    }

    function test(s) {
        return state(this) ? this.exec(s) !== null : nativeTest.call(this, s);
    }

    /* The next match at or after q that split uses: a fresh copy of the compiled regex, as the
     * specification's splitter (it neither reads nor writes the regex's own lastIndex). */
    function splitMatch(st, re, s, q) {
        var src;
        if (!st.splitter) {
            src = sourceOf.call(re);
            if (st.sticky) { src = src.slice(3, src.length - 4); } /* P of `(?:P)|()` */
            st.splitter = new RE(src, 'g' + (re.ignoreCase ? 'i' : '') + (re.multiline ? 'm' : ''));
        }
        st.splitter.lastIndex = q;
        var raw = nativeExec.call(st.splitter, s);
        return raw === null ? null : shape(raw, { names: null, map: st.map, indices: false });
    }

    /* GetSubstitution (ES2023 22.1.3.19.1). */
    function substitute(matched, str, position, m, groups, tpl) {
        var out = '', i = 0, c, n, end, v, ncap = m.length - 1, tail = position + matched.length;
        while (i < tpl.length) {
            c = tpl.charAt(i);
            if (c !== '$' || i + 1 >= tpl.length) {
                out += c;
                i++;
                continue;
            }
            c = tpl.charAt(i + 1);
            if (c === '$') {
                out += '$';
                i += 2;
            } else if (c === '&') {
                out += matched;
                i += 2;
            } else if (c === '`') {
                out += str.slice(0, position);
                i += 2;
            } else if (c === "'") {
                out += tail >= str.length ? '' : str.slice(tail);
                i += 2;
            } else if (c >= '0' && c <= '9') {
                n = +c;
                end = i + 2;
                c = tpl.charAt(i + 2);
                if (c >= '0' && c <= '9' && n * 10 + +c >= 1 && n * 10 + +c <= ncap) {
                    n = n * 10 + +c;
                    end = i + 3;
                }
                if (n >= 1 && n <= ncap) {
                    v = m[n];
                    out += v === undefined ? '' : String(v);
                    i = end;
                } else {
                    out += '$';
                    i++;
                }
            } else if (c === '<' && groups !== undefined && tpl.indexOf('>', i + 2) >= 0) {
                end = tpl.indexOf('>', i + 2);
                v = groups[tpl.slice(i + 2, end)];
                out += v === undefined ? '' : String(v);
                i = end + 1;
            } else {
                out += '$';
                i++;
            }
        }
        return out;
    }

    function patchString() {
        var origMatch = SP.match, origReplace = SP.replace, origSearch = SP.search, origSplit = SP.split;
        var origMatchAll = SP.matchAll, iterProto = O.getPrototypeOf(origMatchAll.call('', /(?:)/g));
        patched = true;
        function method(name, fn, on) {
            defineProperty(on || SP, name, { value: fn, writable: true, configurable: true });
        }
        /* RegExp.prototype.exec/test called on a wrapped regex (`RegExp.prototype.exec.call(re, s)`) */
        method('exec', exec, RE.prototype);
        method('test', test, RE.prototype);
        method('match', function match(regexp) {
            var st = state(regexp), str, A, m;
            if (!st || this == null) { return origMatch.apply(this, arguments); }
            str = String(this);
            if (!st.global) { return regexp.exec(str); }
            regexp.lastIndex = 0;
            A = [];
            while ((m = regexp.exec(str)) !== null) {
                A.push(String(m[0]));
                if (A[A.length - 1] === '') { regexp.lastIndex = toLength(regexp.lastIndex) + 1; }
            }
            return A.length ? A : null;
        });
        method('replace', function replace(searchValue, replaceValue) {
            var st = state(searchValue), str, fn, results = [], m, out = '', next = 0, i, j, pos, args, r;
            if (!st || this == null) { return origReplace.apply(this, arguments); }
            str = String(this);
            fn = typeof replaceValue === 'function';
            if (!fn) { replaceValue = String(replaceValue); }
            if (st.global) { searchValue.lastIndex = 0; }
            while ((m = searchValue.exec(str)) !== null) {
                results.push(m);
                if (!st.global) { break; }
                if (String(m[0]) === '') { searchValue.lastIndex = toLength(searchValue.lastIndex) + 1; }
            }
            for (i = 0; i < results.length; i++) {
                m = results[i];
                pos = m.index;
                pos = pos < 0 ? 0 : pos > str.length ? str.length : pos;
                if (fn) {
                    args = [];
                    for (j = 0; j < m.length; j++) { args.push(m[j]); }
                    args.push(pos, str);
                    if (m.groups !== undefined) { args.push(m.groups); }
                    r = String(replaceValue.apply(undefined, args));
                } else {
                    r = substitute(String(m[0]), str, pos, m, m.groups, replaceValue);
                }
                if (pos >= next) {
                    out += str.slice(next, pos) + r;
                    next = pos + String(m[0]).length;
                }
            }
            return next >= str.length ? out : out + str.slice(next);
        });
        method('search', function search(regexp) {
            var st = state(regexp), prev, m;
            if (!st || this == null) { return origSearch.apply(this, arguments); }
            prev = regexp.lastIndex;
            if (prev !== 0 || 1 / prev < 0) { regexp.lastIndex = 0; }
            m = regexp.exec(String(this));
            if (regexp.lastIndex !== prev) { regexp.lastIndex = prev; }
            return m === null ? -1 : m.index;
        });
        /* RegExp.prototype[@@matchAll]: a copy of the regex (its own lastIndex) whose exec the iterator
         * calls, made from the compiled pattern (lib/core's matchAll goes through the RegExp constructor,
         * which would parse and rewrite the source again). */
        method('matchAll', function matchAll(regexp) {
            var st = state(regexp), str, copy, done = false, it;
            if (!st || this == null) { return origMatchAll.apply(this, arguments); }
            if (!st.global) { throw new TypeError('matchAll must be called with a global RegExp'); }
            str = String(this);
            copy = wrap(new RE(sourceOf.call(regexp), 'g' + (regexp.ignoreCase ? 'i' : '') +
                (regexp.multiline ? 'm' : '')), regexp.source, regexp.flags, st.names, st.map);
            copy.lastIndex = toLength(regexp.lastIndex);
            it = create(iterProto);
            defineProperty(it, 'next', { value: function next() {
                var m = done ? null : copy.exec(str);
                if (m === null) {
                    done = true;
                    return { value: undefined, done: true };
                }
                if (String(m[0]) === '') { copy.lastIndex = toLength(copy.lastIndex) + 1; }
                return { value: m, done: false };
            }, writable: true, configurable: true });
            return it;
        });
        /* The specification's split runs a sticky copy of the regex at each position q; the leftmost match
         * at or after q is the same match, found in one search. The regex's own `y` does not matter. */
        method('split', function split(separator, limit) {
            var st = state(separator), s, A = [], lim, p = 0, q = 0, m, e, i;
            if (!st || this == null) { return origSplit.apply(this, arguments); }
            s = String(this);
            lim = limit === undefined ? 4294967295 : limit >>> 0;
            if (lim === 0) { return A; }
            if (s.length === 0) {
                m = splitMatch(st, separator, s, 0);
                if (m === null || m.index !== 0) { A.push(s); }
                return A;
            }
            while (q < s.length) {
                m = splitMatch(st, separator, s, q);
                if (m === null || m.index >= s.length) { break; }
                q = m.index;
                e = q + m[0].length;
                if (e > s.length) { e = s.length; }
                if (e === p) {
                    q++;
                    continue;
                }
                A.push(s.slice(p, q));
                if (A.length === lim) { return A; }
                p = e;
                for (i = 1; i < m.length; i++) {
                    A.push(m[i]);
                    if (A.length === lim) { return A; }
                }
                q = p;
            }
            A.push(s.slice(p));
            return A;
        });
    }

    function own(re, name, value) {
        defineProperty(re, name, { value: value, writable: name === 'exec' || name === 'test',
            configurable: true });
    }

    /* A literal with `y` or `d` (lib/compile/lower_regex.c): re is its compiled global regex, source and
     * flags the literal's own, names its group names (or null), map the d flag's group map (or null). */
    function wrap(re, source, flags, names, map) {
        var sorted = '', i, st;
        for (i = 0; i < ORDER.length; i++) {
            if (flags.indexOf(ORDER.charAt(i)) >= 0) { sorted += ORDER.charAt(i); }
        }
        st = { global: flags.indexOf('g') >= 0, sticky: flags.indexOf('y') >= 0,
            indices: flags.indexOf('d') >= 0, names: names, map: map, splitter: null };
        if (!patched) { patchString(); }
        defineProperty(re, STATE, { value: st });
        own(re, 'exec', exec);
        own(re, 'test', test);
        own(re, 'toString', function toString() {
            return '/' + this.source + '/' + this.flags;
        });
        own(re, 'source', source === '' ? '(?:)' : source);
        own(re, 'flags', sorted);
        own(re, 'global', st.global);
        own(re, 'sticky', st.sticky);
        own(re, 'hasIndices', st.indices);
        own(re, 'dotAll', flags.indexOf('s') >= 0);
        own(re, 'unicode', flags.indexOf('u') >= 0);
        return re;
    }

    return {
        regexFlags: wrap,
        /* First statement of a program with such literals: before `'ab'.match(/b/y)` reads match. */
        regexFlagsInit: function () {
            if (!patched) { patchString(); }
        }
    };
}
