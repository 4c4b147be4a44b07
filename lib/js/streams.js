/*
 * streams.js — the WHATWG Streams Standard (https://streams.spec.whatwg.org/) in ES5: ReadableStream (default
 * and byte streams, default and BYOB readers, tee, pipeTo/pipeThrough, async iteration, from), WritableStream,
 * TransformStream, the queuing strategies, and the Workers additions built on them (IdentityTransformStream,
 * FixedLengthStream, TextEncoderStream, TextDecoderStream, CompressionStream, DecompressionStream).
 *
 * Loaded on first use of a stream global or of a body's .body (lib/web/stream.c), never at isolate start:
 * a Worker that does not stream pays nothing for this file. Called as `function (native, global)`; returns
 * the classes (stream.c defines them as globals) and the internal operations stream.c uses to make streams
 * fed from C and to read streams from C (lib/web/stream.h documents that interface).
 *
 * Every instance keeps its spec slots in one record under the hidden key native.slot; the record, not the
 * public object, is what the abstract operations below take (their names follow the standard's). Deviations
 * forced by Duktape: ArrayBuffers cannot be detached, so "transfer" copies the bytes into a new buffer (the
 * caller's buffer stays usable); %AsyncIteratorPrototype% is approximated by an object with its one method.
 *
 * native: slot (hidden key), newPromise(), settle(p, value, reject), handled(p), zlib(format, inflate),
 *         zlibPush(handle, bytes|null) -> array of Uint8Array, isRequestOrResponse(x)
 */
function (native, global) {
    'use strict';

    var S = native.slot;
    var TypeError = global.TypeError, RangeError = global.RangeError;
    var ArrayBuffer = global.ArrayBuffer, Uint8Array = global.Uint8Array, DataView = global.DataView;
    var isView = ArrayBuffer.isView, isArray = Array.isArray;
    var defineProperty = Object.defineProperty, create = Object.create;
    var promiseThen = global.Promise.prototype.then;
    var newPromise = native.newPromise, settle = native.settle, markHandled = native.handled;
    var symAsyncIterator = global.Symbol.asyncIterator, symIterator = global.Symbol.iterator;
    var symToStringTag = global.Symbol.toStringTag;
    var TextEncoder = global.TextEncoder, TextDecoder = global.TextDecoder;
    var queueMicrotask = native.queueMicrotask;

    var LOCKED = 'This ReadableStream is currently locked to a reader.';
    var WLOCKED = 'This WritableStream is currently locked to a writer.';
    var RELEASED = 'This ReadableStream reader has been released.';
    var WRELEASED = 'This WritableStream writer has been released.';

    /* ---- small utilities ---- */

    function hide(obj, name, value) {
        defineProperty(obj, name, { value: value, writable: true, configurable: true, enumerable: false });
    }

    function methods(proto, table) {
        for (var k in table) {
            if (Object.prototype.hasOwnProperty.call(table, k)) {
                hide(proto, k, table[k]);
            }
        }
    }

    function getters(proto, table) {
        for (var k in table) {
            if (Object.prototype.hasOwnProperty.call(table, k)) {
                defineProperty(proto, k, { get: table[k], configurable: true, enumerable: false });
            }
        }
    }

    function tag(proto, name) {
        defineProperty(proto, symToStringTag, { value: name, configurable: true });
    }

    function slotOf(x, kind) {
        var s = (x !== null && (typeof x === 'object' || typeof x === 'function')) ? x[S] : undefined;
        if (s === undefined || s.kind !== kind) {
            throw new TypeError('Illegal invocation');
        }
        return s;
    }

    function has(x, kind) {
        var s = (x !== null && typeof x === 'object') ? x[S] : undefined;
        return s !== undefined && s.kind === kind;
    }

    function setSlot(obj, rec) {
        defineProperty(obj, S, { value: rec });
        rec.obj = obj;
        return rec;
    }

    function resolved(v) {
        var p = newPromise();
        settle(p, v, false);
        return p;
    }

    function rejected(r) {
        var p = newPromise();
        settle(p, r, true);
        return p;
    }

    /* "Upon fulfillment / rejection", with the intrinsic then; the derived promise never reports. */
    function upon(p, onF, onR) {
        if (p === RESOLVED) {
            /* A reaction to a fulfilled promise is a job queued now: the same job, without the derived
             * promise (the hot path of every write that completes at once). */
            if (onF !== undefined) {
                queueMicrotask(onF);
            }
            return;
        }
        markHandled(promiseThen.call(p, onF, onR));
    }

    /* "Transform a promise": a new promise with the reactions' results. */
    function transform(p, onF, onR) {
        return promiseThen.call(p, onF, onR);
    }

    /* Calls method `name` of obj (if any) with args; a promise of its result; throws become rejections. */
    function promiseCall(fn, self, args) {
        try {
            return resolved(fn.apply(self, args));
        } catch (e) {
            return rejected(e);
        }
    }

    function iterResult(value, done) {
        return { value: value, done: done };
    }

    function isObject(x) {
        return x !== null && (typeof x === 'object' || typeof x === 'function');
    }

    function getMethod(obj, name, what) {
        var f = obj[name];
        if (f === undefined) {
            return undefined;
        }
        if (typeof f !== 'function') {
            throw new TypeError(what + ' must be a function.');
        }
        return f;
    }

    function dictionary(x, what) {
        if (x === undefined || x === null) {
            return {};
        }
        if (!isObject(x)) {
            throw new TypeError(what + ' must be an object.');
        }
        return x;
    }

    /* ---- queuing strategies ---- */

    function extractHWM(strategy, dflt) {
        var h = strategy.highWaterMark;
        if (h === undefined) {
            return dflt;
        }
        h = Number(h);
        if (h !== h || h < 0) {
            throw new RangeError('The highWaterMark must be a non-negative number.');
        }
        return h;
    }

    function one() {
        return 1;
    }

    function extractSize(strategy) {
        var size = strategy.size;
        if (size === undefined) {
            return one;
        }
        if (typeof size !== 'function') {
            throw new TypeError('The size of a queuing strategy must be a function.');
        }
        return function (chunk) {
            return size(chunk);
        };
    }

    function strategyInit(init, ctorName) {
        if (!isObject(init)) {
            throw new TypeError("Failed to construct '" + ctorName + "': the init argument must be an object.");
        }
        if (init.highWaterMark === undefined) {
            throw new TypeError("Failed to construct '" + ctorName + "': highWaterMark is required.");
        }
        return Number(init.highWaterMark);
    }

    function byteLengthSize(chunk) {
        return chunk.byteLength;
    }
    defineProperty(byteLengthSize, 'name', { value: 'size' });
    function countSize() {
        return 1;
    }
    defineProperty(countSize, 'name', { value: 'size' });

    function ByteLengthQueuingStrategy(init) {
        if (!(this instanceof ByteLengthQueuingStrategy)) {
            throw new TypeError("Failed to construct 'ByteLengthQueuingStrategy': Please use the 'new' operator.");
        }
        setSlot(this, { kind: 'BLQS', hwm: strategyInit(init, 'ByteLengthQueuingStrategy') });
    }
    getters(ByteLengthQueuingStrategy.prototype, {
        highWaterMark: function () { return slotOf(this, 'BLQS').hwm; },
        size: function () { slotOf(this, 'BLQS'); return byteLengthSize; }
    });
    tag(ByteLengthQueuingStrategy.prototype, 'ByteLengthQueuingStrategy');

    function CountQueuingStrategy(init) {
        if (!(this instanceof CountQueuingStrategy)) {
            throw new TypeError("Failed to construct 'CountQueuingStrategy': Please use the 'new' operator.");
        }
        setSlot(this, { kind: 'CQS', hwm: strategyInit(init, 'CountQueuingStrategy') });
    }
    getters(CountQueuingStrategy.prototype, {
        highWaterMark: function () { return slotOf(this, 'CQS').hwm; },
        size: function () { slotOf(this, 'CQS'); return countSize; }
    });
    tag(CountQueuingStrategy.prototype, 'CountQueuingStrategy');

    /* ---- queue-with-sizes ---- */

    /* A FIFO whose shift is O(1) (Array.prototype.shift moves every element: a stream with thousands of
     * queued chunks would be read in quadratic time). Slots before `head` are dropped in batches. */
    function Queue() {
        this.items = [];
        this.head = 0;
    }
    Queue.prototype.push = function (x) {
        this.items.push(x);
    };
    Queue.prototype.shift = function () {
        var items = this.items, x = items[this.head];
        items[this.head++] = undefined;
        if (this.head === items.length) {
            this.items = [];
            this.head = 0;
        } else if (this.head >= 1024 && this.head * 2 >= items.length) {
            this.items = items.slice(this.head);
            this.head = 0;
        }
        return x;
    };
    Queue.prototype.peek = function () {
        return this.items[this.head];
    };
    Queue.prototype.size = function () {
        return this.items.length - this.head;
    };

    function enqueueValueWithSize(c, value, size) {
        size = Number(size);
        if (size !== size || size < 0 || size === Infinity) {
            throw new RangeError('The return value of a queuing strategy\'s size function must be a finite, ' +
                'non-negative number.');
        }
        c.queue.push({ value: value, size: size });
        c.queueTotalSize += size;
    }

    function dequeueValue(c) {
        var pair = c.queue.shift();
        c.queueTotalSize -= pair.size;
        if (c.queueTotalSize < 0) {
            c.queueTotalSize = 0;
        }
        return pair.value;
    }

    function resetQueue(c) {
        c.queue = new Queue();
        c.queueTotalSize = 0;
    }

    /* ---- buffers ---- */

    /* TransferArrayBuffer: Duktape cannot detach, so the bytes are copied into a new buffer. */
    function transferBuffer(buf) {
        var copy = new ArrayBuffer(buf.byteLength);
        new Uint8Array(copy).set(new Uint8Array(buf));
        return copy;
    }

    function copyBytes(dst, dstOff, src, srcOff, n) {
        new Uint8Array(dst, dstOff, n).set(new Uint8Array(src, srcOff, n));
    }

    function elementSize(view) {
        return view.BYTES_PER_ELEMENT === undefined ? 1 : view.BYTES_PER_ELEMENT;
    }

    function makeView(ctor, buffer, offset, length) {
        if (ctor === DataView) {
            return new DataView(buffer, offset, length);
        }
        return new ctor(buffer, offset, length);
    }

    function viewCtor(view) {
        if (view instanceof DataView) {
            return DataView;
        }
        return view.constructor;
    }

    /* ===========================================================================================================
     * ReadableStream
     */

    function ReadableStream(underlyingSource, strategy) {
        if (!(this instanceof ReadableStream)) {
            throw new TypeError("Failed to construct 'ReadableStream': Please use the 'new' operator.");
        }
        if (underlyingSource === null) {
            underlyingSource = undefined;
        }
        var src = dictionary(underlyingSource, 'underlyingSource');
        strategy = dictionary(strategy, 'strategy');
        var stream = initReadableStream(this);
        var type = src.type;
        if (type !== undefined) {
            type = String(type);
            if (type !== 'bytes') {
                throw new TypeError("Failed to construct 'ReadableStream': invalid type '" + type + "'.");
            }
        }
        if (type === 'bytes') {
            if (strategy.size !== undefined) {
                throw new RangeError('The strategy for a byte stream cannot have a size function.');
            }
            setUpByteControllerFromSource(stream, src, extractHWM(strategy, 0));
        } else {
            var size = extractSize(strategy);
            setUpDefaultControllerFromSource(stream, src, extractHWM(strategy, 1), size);
        }
    }

    function initReadableStream(obj) {
        return setSlot(obj, {
            kind: 'RS', state: 'readable', reader: null, storedError: undefined, disturbed: false,
            controller: null
        });
    }

    function newReadableStream() {
        return initReadableStream(create(ReadableStream.prototype));
    }

    function isLocked(stream) {
        return stream.reader !== null;
    }

    function readableStreamCancel(stream, reason) {
        stream.disturbed = true;
        if (stream.state === 'closed') {
            return resolved(undefined);
        }
        if (stream.state === 'errored') {
            return rejected(stream.storedError);
        }
        readableStreamClose(stream);
        var reader = stream.reader;
        if (reader !== null && reader.kind === 'RSBR') {
            var reqs = reader.readIntoRequests;
            reader.readIntoRequests = [];
            for (var i = 0; i < reqs.length; i++) {
                reqs[i].close(undefined);
            }
        }
        return transform(stream.controller.cancelSteps(reason), function () {
            return undefined;
        });
    }

    function readableStreamClose(stream) {
        stream.state = 'closed';
        var reader = stream.reader;
        if (reader === null) {
            return;
        }
        settle(reader.closedPromise, undefined, false);
        if (reader.kind === 'RSDR') {
            var reqs = reader.readRequests;
            reader.readRequests = new Queue();
            while (reqs.size() > 0) {
                reqs.shift().close();
            }
        }
    }

    function readableStreamError(stream, e) {
        stream.state = 'errored';
        stream.storedError = e;
        var reader = stream.reader;
        if (reader === null) {
            return;
        }
        settle(reader.closedPromise, e, true);
        markHandled(reader.closedPromise);
        var reqs, i;
        if (reader.kind === 'RSDR') {
            reqs = reader.readRequests;
            reader.readRequests = new Queue();
            while (reqs.size() > 0) {
                reqs.shift().error(e);
            }
        } else {
            reqs = reader.readIntoRequests;
            reader.readIntoRequests = [];
            for (i = 0; i < reqs.length; i++) {
                reqs[i].error(e);
            }
        }
    }

    function fulfillReadRequest(stream, chunk, done) {
        var req = stream.reader.readRequests.shift();
        if (done) {
            req.close();
        } else {
            req.chunk(chunk);
        }
    }

    function numReadRequests(stream) {
        return stream.reader.readRequests.size();
    }

    function hasDefaultReader(stream) {
        return stream.reader !== null && stream.reader.kind === 'RSDR';
    }

    function hasBYOBReader(stream) {
        return stream.reader !== null && stream.reader.kind === 'RSBR';
    }

    /* Read requests: objects with chunk/close/error. The one behind reader.read() resolves a promise. */
    function PromiseReadRequest(p) {
        this.p = p;
    }
    PromiseReadRequest.prototype.chunk = function (c) { settle(this.p, iterResult(c, false), false); };
    PromiseReadRequest.prototype.close = function (c) { settle(this.p, iterResult(c, true), false); };
    PromiseReadRequest.prototype.error = function (e) { settle(this.p, e, true); };

    /* ---- readers ---- */

    function readerGenericInitialize(reader, stream) {
        reader.stream = stream;
        stream.reader = reader;
        reader.closedPromise = newPromise();
        if (stream.state === 'closed') {
            settle(reader.closedPromise, undefined, false);
        } else if (stream.state === 'errored') {
            settle(reader.closedPromise, stream.storedError, true);
            markHandled(reader.closedPromise);
        }
    }

    function readerGenericRelease(reader) {
        var stream = reader.stream;
        var e = new TypeError(RELEASED);
        if (stream.state === 'readable') {
            settle(reader.closedPromise, e, true);
        } else {
            reader.closedPromise = rejected(e);
        }
        markHandled(reader.closedPromise);
        stream.controller.releaseSteps();
        stream.reader = null;
        reader.stream = null;
    }

    function readerGenericCancel(reader, reason) {
        return readableStreamCancel(reader.stream, reason);
    }

    function setUpDefaultReader(obj, stream) {
        if (isLocked(stream)) {
            throw new TypeError(LOCKED);
        }
        var reader = setSlot(obj, { kind: 'RSDR', stream: null, closedPromise: null, readRequests: new Queue() });
        readerGenericInitialize(reader, stream);
        return reader;
    }

    function acquireDefaultReader(stream) {
        return setUpDefaultReader(create(ReadableStreamDefaultReader.prototype), stream);
    }

    function defaultReaderRead(reader, req) {
        var stream = reader.stream;
        stream.disturbed = true;
        if (stream.state === 'closed') {
            req.close();
        } else if (stream.state === 'errored') {
            req.error(stream.storedError);
        } else {
            stream.controller.pullSteps(req);
        }
    }

    function defaultReaderErrorReadRequests(reader, e) {
        var reqs = reader.readRequests;
        reader.readRequests = new Queue();
        while (reqs.size() > 0) {
            reqs.shift().error(e);
        }
    }

    function defaultReaderRelease(reader) {
        readerGenericRelease(reader);
        defaultReaderErrorReadRequests(reader, new TypeError(RELEASED));
    }

    function ReadableStreamDefaultReader(stream) {
        if (!(this instanceof ReadableStreamDefaultReader)) {
            throw new TypeError("Failed to construct 'ReadableStreamDefaultReader': Please use the 'new' operator.");
        }
        setUpDefaultReader(this, slotOf(stream, 'RS'));
    }
    methods(ReadableStreamDefaultReader.prototype, {
        read: function read() {
            var reader;
            try {
                reader = slotOf(this, 'RSDR');
            } catch (e) {
                return rejected(e);
            }
            if (reader.stream === null) {
                return rejected(new TypeError(RELEASED));
            }
            var p = newPromise();
            defaultReaderRead(reader, new PromiseReadRequest(p));
            return p;
        },
        releaseLock: function releaseLock() {
            var reader = slotOf(this, 'RSDR');
            if (reader.stream !== null) {
                defaultReaderRelease(reader);
            }
        },
        cancel: function cancel(reason) {
            var reader;
            try {
                reader = slotOf(this, 'RSDR');
            } catch (e) {
                return rejected(e);
            }
            if (reader.stream === null) {
                return rejected(new TypeError(RELEASED));
            }
            return readerGenericCancel(reader, reason);
        }
    });
    getters(ReadableStreamDefaultReader.prototype, {
        closed: function () {
            try {
                return slotOf(this, 'RSDR').closedPromise;
            } catch (e) {
                return rejected(e);
            }
        }
    });
    tag(ReadableStreamDefaultReader.prototype, 'ReadableStreamDefaultReader');

    function setUpBYOBReader(obj, stream) {
        if (isLocked(stream)) {
            throw new TypeError(LOCKED);
        }
        if (stream.controller.kind !== 'RBSC') {
            throw new TypeError('This ReadableStream does not support BYOB reads (it is not a byte stream).');
        }
        var reader = setSlot(obj, { kind: 'RSBR', stream: null, closedPromise: null, readIntoRequests: [] });
        readerGenericInitialize(reader, stream);
        return reader;
    }

    function acquireBYOBReader(stream) {
        return setUpBYOBReader(create(ReadableStreamBYOBReader.prototype), stream);
    }

    function byobReaderRead(reader, view, min, req) {
        var stream = reader.stream;
        stream.disturbed = true;
        if (stream.state === 'errored') {
            req.error(stream.storedError);
        } else {
            byteControllerPullInto(stream.controller, view, min, req);
        }
    }

    function byobReaderErrorReadIntoRequests(reader, e) {
        var reqs = reader.readIntoRequests;
        reader.readIntoRequests = [];
        for (var i = 0; i < reqs.length; i++) {
            reqs[i].error(e);
        }
    }

    function ReadableStreamBYOBReader(stream) {
        if (!(this instanceof ReadableStreamBYOBReader)) {
            throw new TypeError("Failed to construct 'ReadableStreamBYOBReader': Please use the 'new' operator.");
        }
        setUpBYOBReader(this, slotOf(stream, 'RS'));
    }
    methods(ReadableStreamBYOBReader.prototype, {
        read: function read(view, options) {
            var reader;
            try {
                reader = slotOf(this, 'RSBR');
            } catch (e) {
                return rejected(e);
            }
            if (!isView(view)) {
                return rejected(new TypeError('The view argument must be an ArrayBuffer view.'));
            }
            if (view.byteLength === 0) {
                return rejected(new TypeError('The view argument must have a non-zero length.'));
            }
            if (view.buffer.byteLength === 0) {
                return rejected(new TypeError("The view argument's buffer must have a non-zero length."));
            }
            var min = 1;
            if (options !== undefined && options !== null && options.min !== undefined) {
                min = Number(options.min);
                if (min !== min || min <= 0 || Math.floor(min) !== min) {
                    return rejected(new TypeError('options.min must be a positive integer.'));
                }
            }
            var len = view instanceof DataView ? view.byteLength : view.length;
            if (min > len) {
                return rejected(new RangeError('options.min must not exceed the length of the view.'));
            }
            if (reader.stream === null) {
                return rejected(new TypeError(RELEASED));
            }
            var p = newPromise();
            byobReaderRead(reader, view, min, new PromiseReadRequest(p));
            return p;
        },
        releaseLock: function releaseLock() {
            var reader = slotOf(this, 'RSBR');
            if (reader.stream !== null) {
                readerGenericRelease(reader);
                byobReaderErrorReadIntoRequests(reader, new TypeError(RELEASED));
            }
        },
        cancel: function cancel(reason) {
            var reader;
            try {
                reader = slotOf(this, 'RSBR');
            } catch (e) {
                return rejected(e);
            }
            if (reader.stream === null) {
                return rejected(new TypeError(RELEASED));
            }
            return readerGenericCancel(reader, reason);
        }
    });
    getters(ReadableStreamBYOBReader.prototype, {
        closed: function () {
            try {
                return slotOf(this, 'RSBR').closedPromise;
            } catch (e) {
                return rejected(e);
            }
        }
    });
    tag(ReadableStreamBYOBReader.prototype, 'ReadableStreamBYOBReader');

    /* ---- ReadableStreamDefaultController ---- */

    function ReadableStreamDefaultController() {
        throw new TypeError('Illegal constructor');
    }

    /* Inlined (no helper calls): it runs several times per chunk, and every call costs in an interpreter. */
    function defaultControllerShouldCallPull(c) {
        var stream = c.stream;
        if (c.closeRequested || stream.state !== 'readable' || !c.started) {
            return false;
        }
        var reader = stream.reader;
        if (reader !== null && reader.kind === 'RSDR' && reader.readRequests.size() > 0) {
            return true;
        }
        return c.strategyHWM - c.queueTotalSize > 0;
    }

    function defaultControllerCallPullIfNeeded(c) {
        if (!defaultControllerShouldCallPull(c)) {
            return;
        }
        if (c.pulling) {
            c.pullAgain = true;
            return;
        }
        c.pulling = true;
        var r = {
            ok() {
                c.pulling = false;
                if (c.pullAgain) {
                    c.pullAgain = false;
                    defaultControllerCallPullIfNeeded(c);
                }
            },
            fail(e) {
                defaultControllerError(c, e);
            }
        };
        upon(c.pullAlgorithm(c), r.ok, r.fail);
    }

    function defaultControllerClearAlgorithms(c) {
        c.pullAlgorithm = undefined;
        c.cancelAlgorithm = undefined;
        c.strategySize = undefined;
    }

    function defaultControllerClose(c) {
        if (!defaultControllerCanCloseOrEnqueue(c)) {
            return;
        }
        c.closeRequested = true;
        if (c.queue.size() === 0) {
            defaultControllerClearAlgorithms(c);
            readableStreamClose(c.stream);
        }
    }

    function defaultControllerEnqueue(c, chunk) {
        if (!defaultControllerCanCloseOrEnqueue(c)) {
            return;
        }
        var stream = c.stream;
        if (isLocked(stream) && hasDefaultReader(stream) && numReadRequests(stream) > 0) {
            fulfillReadRequest(stream, chunk, false);
        } else {
            var size;
            try {
                size = c.strategySize(chunk);
                enqueueValueWithSize(c, chunk, size);
            } catch (e) {
                defaultControllerError(c, e);
                throw e;
            }
        }
        defaultControllerCallPullIfNeeded(c);
    }

    function defaultControllerError(c, e) {
        if (c.stream.state !== 'readable') {
            return;
        }
        resetQueue(c);
        defaultControllerClearAlgorithms(c);
        readableStreamError(c.stream, e);
    }

    function defaultControllerDesiredSize(c) {
        var state = c.stream.state;
        if (state === 'errored') {
            return null;
        }
        if (state === 'closed') {
            return 0;
        }
        return c.strategyHWM - c.queueTotalSize;
    }

    function defaultControllerHasBackpressure(c) {
        return !defaultControllerShouldCallPull(c);
    }

    function defaultControllerCanCloseOrEnqueue(c) {
        return !c.closeRequested && c.stream.state === 'readable';
    }

    var defaultControllerProto = {
        cancelSteps: function (reason) {
            resetQueue(this);
            var result = this.cancelAlgorithm(reason);
            defaultControllerClearAlgorithms(this);
            return result;
        },
        pullSteps: function (req) {
            var c = this;
            if (c.queue.size() > 0) {
                var chunk = dequeueValue(c);
                if (c.closeRequested && c.queue.size() === 0) {
                    defaultControllerClearAlgorithms(c);
                    readableStreamClose(c.stream);
                } else {
                    defaultControllerCallPullIfNeeded(c);
                }
                req.chunk(chunk);
            } else {
                c.stream.reader.readRequests.push(req);
                defaultControllerCallPullIfNeeded(c);
            }
        },
        releaseSteps: function () {}
    };

    function setUpDefaultController(stream, startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm, size) {
        var c = setSlot(create(ReadableStreamDefaultController.prototype), create(defaultControllerProto));
        c.kind = 'RSDC';
        c.stream = stream;
        resetQueue(c);
        c.started = c.closeRequested = c.pullAgain = c.pulling = false;
        c.strategySize = size;
        c.strategyHWM = hwm;
        c.pullAlgorithm = pullAlgorithm;
        c.cancelAlgorithm = cancelAlgorithm;
        stream.controller = c;
        var startResult = startAlgorithm(c);
        upon(resolved(startResult), function () {
            c.started = true;
            defaultControllerCallPullIfNeeded(c);
        }, function (r) {
            defaultControllerError(c, r);
        });
        return c;
    }

    /* The underlying source's methods, called with the source as `this` and the controller's public object. */
    function sourceAlgorithms(src, what) {
        var start = getMethod(src, 'start', what + '.start');
        var pull = getMethod(src, 'pull', what + '.pull');
        var cancel = getMethod(src, 'cancel', what + '.cancel');
        return {
            start: start ? function (c) { return start.call(src, c.obj); } : function () { return undefined; },
            pull: pull ? function (c) { return promiseCall(pull, src, [c.obj]); } : function () { return resolved(undefined); },
            cancel: cancel ? function (r) { return promiseCall(cancel, src, [r]); } : function () { return resolved(undefined); }
        };
    }

    function setUpDefaultControllerFromSource(stream, src, hwm, size) {
        var a = sourceAlgorithms(src, 'underlyingSource');
        setUpDefaultController(stream, a.start, a.pull, a.cancel, hwm, size);
    }

    methods(ReadableStreamDefaultController.prototype, {
        close: function close() {
            var c = slotOf(this, 'RSDC');
            if (!defaultControllerCanCloseOrEnqueue(c)) {
                throw new TypeError('The stream is not in a state that permits close.');
            }
            defaultControllerClose(c);
        },
        enqueue: function enqueue(chunk) {
            var c = slotOf(this, 'RSDC');
            if (!defaultControllerCanCloseOrEnqueue(c)) {
                throw new TypeError('The stream is not in a state that permits enqueue.');
            }
            defaultControllerEnqueue(c, chunk);
        },
        error: function error(e) {
            defaultControllerError(slotOf(this, 'RSDC'), e);
        }
    });
    getters(ReadableStreamDefaultController.prototype, {
        desiredSize: function () { return defaultControllerDesiredSize(slotOf(this, 'RSDC')); }
    });
    tag(ReadableStreamDefaultController.prototype, 'ReadableStreamDefaultController');

    /* ---- ReadableByteStreamController ---- */

    function ReadableByteStreamController() {
        throw new TypeError('Illegal constructor');
    }

    function ReadableStreamBYOBRequest() {
        throw new TypeError('Illegal constructor');
    }

    function byteControllerShouldCallPull(c) {
        var stream = c.stream;
        if (stream.state !== 'readable' || c.closeRequested || !c.started) {
            return false;
        }
        if (hasDefaultReader(stream) && numReadRequests(stream) > 0) {
            return true;
        }
        if (hasBYOBReader(stream) && stream.reader.readIntoRequests.length > 0) {
            return true;
        }
        return byteControllerDesiredSize(c) > 0;
    }

    function byteControllerCallPullIfNeeded(c) {
        if (!byteControllerShouldCallPull(c)) {
            return;
        }
        if (c.pulling) {
            c.pullAgain = true;
            return;
        }
        c.pulling = true;
        var r = {
            ok() {
                c.pulling = false;
                if (c.pullAgain) {
                    c.pullAgain = false;
                    byteControllerCallPullIfNeeded(c);
                }
            },
            fail(e) {
                byteControllerError(c, e);
            }
        };
        upon(c.pullAlgorithm(c), r.ok, r.fail);
    }

    function byteControllerClearAlgorithms(c) {
        c.pullAlgorithm = undefined;
        c.cancelAlgorithm = undefined;
    }

    function byteControllerInvalidateBYOBRequest(c) {
        if (c.byobRequest === null) {
            return;
        }
        c.byobRequest.controller = undefined;
        c.byobRequest.view = null;
        c.byobRequest = null;
    }

    function byteControllerClearPendingPullIntos(c) {
        byteControllerInvalidateBYOBRequest(c);
        c.pendingPullIntos = [];
    }

    function byteControllerError(c, e) {
        var stream = c.stream;
        if (stream.state !== 'readable') {
            return;
        }
        byteControllerClearPendingPullIntos(c);
        resetQueue(c);
        byteControllerClearAlgorithms(c);
        readableStreamError(stream, e);
    }

    function byteControllerDesiredSize(c) {
        var state = c.stream.state;
        if (state === 'errored') {
            return null;
        }
        if (state === 'closed') {
            return 0;
        }
        return c.strategyHWM - c.queueTotalSize;
    }

    function byteControllerClose(c) {
        var stream = c.stream;
        if (c.closeRequested || stream.state !== 'readable') {
            return;
        }
        if (c.queueTotalSize > 0) {
            c.closeRequested = true;
            return;
        }
        if (c.pendingPullIntos.length > 0) {
            var first = c.pendingPullIntos[0];
            if (first.bytesFilled % first.elementSize !== 0) {
                var e = new TypeError('Insufficient bytes to fill elements in the given buffer');
                byteControllerError(c, e);
                throw e;
            }
        }
        byteControllerClearAlgorithms(c);
        readableStreamClose(stream);
    }

    function byteControllerEnqueueChunkToQueue(c, buffer, byteOffset, byteLength) {
        c.queue.push({ buffer: buffer, byteOffset: byteOffset, byteLength: byteLength });
        c.queueTotalSize += byteLength;
    }

    function byteControllerEnqueueClonedChunkToQueue(c, buffer, byteOffset, byteLength) {
        var clone;
        try {
            clone = buffer.slice(byteOffset, byteOffset + byteLength);
        } catch (e) {
            byteControllerError(c, e);
            throw e;
        }
        byteControllerEnqueueChunkToQueue(c, clone, 0, byteLength);
    }

    function byteControllerEnqueueDetachedPullIntoToQueue(c, pullInto) {
        if (pullInto.bytesFilled > 0) {
            byteControllerEnqueueClonedChunkToQueue(c, pullInto.buffer, pullInto.byteOffset, pullInto.bytesFilled);
        }
        byteControllerShiftPendingPullInto(c);
    }

    function byteControllerProcessReadRequestsUsingQueue(c) {
        var reader = c.stream.reader;
        while (reader.readRequests.size() > 0) {
            if (c.queueTotalSize === 0) {
                return;
            }
            var req = reader.readRequests.shift();
            byteControllerFillReadRequestFromQueue(c, req);
        }
    }

    function byteControllerFillReadRequestFromQueue(c, req) {
        var entry = c.queue.shift();
        c.queueTotalSize -= entry.byteLength;
        byteControllerHandleQueueDrain(c);
        req.chunk(new Uint8Array(entry.buffer, entry.byteOffset, entry.byteLength));
    }

    function byteControllerEnqueue(c, chunk) {
        var stream = c.stream;
        if (c.closeRequested || stream.state !== 'readable') {
            return;
        }
        var buffer = chunk.buffer, byteOffset = chunk.byteOffset, byteLength = chunk.byteLength;
        var transferred = transferBuffer(buffer);
        if (c.pendingPullIntos.length > 0) {
            var first = c.pendingPullIntos[0];
            first.buffer = transferBuffer(first.buffer);
            byteControllerInvalidateBYOBRequest(c);
            if (first.readerType === 'none') {
                byteControllerEnqueueDetachedPullIntoToQueue(c, first);
            }
        }
        if (hasDefaultReader(stream)) {
            byteControllerProcessReadRequestsUsingQueue(c);
            if (numReadRequests(stream) === 0) {
                byteControllerEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
            } else {
                if (c.pendingPullIntos.length > 0) {
                    byteControllerShiftPendingPullInto(c);
                }
                fulfillReadRequest(stream, new Uint8Array(transferred, byteOffset, byteLength), false);
            }
        } else if (hasBYOBReader(stream)) {
            byteControllerEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
            byteControllerProcessPullIntoDescriptorsUsingQueue(c);
        } else {
            byteControllerEnqueueChunkToQueue(c, transferred, byteOffset, byteLength);
        }
        byteControllerCallPullIfNeeded(c);
    }

    function byteControllerShiftPendingPullInto(c) {
        return c.pendingPullIntos.shift();
    }

    function byteControllerFillHeadPullIntoDescriptor(c, size, pullInto) {
        pullInto.bytesFilled += size;
    }

    function byteControllerFillPullIntoDescriptorFromQueue(c, pullInto) {
        var maxBytesToCopy = Math.min(c.queueTotalSize, pullInto.byteLength - pullInto.bytesFilled);
        var maxBytesFilled = pullInto.bytesFilled + maxBytesToCopy;
        var totalBytesToCopyRemaining = maxBytesToCopy;
        var ready = false;
        var remainderBytes = maxBytesFilled % pullInto.elementSize;
        var maxAlignedBytes = maxBytesFilled - remainderBytes;
        if (maxAlignedBytes >= pullInto.minimumFill) {
            totalBytesToCopyRemaining = maxAlignedBytes - pullInto.bytesFilled;
            ready = true;
        }
        var queue = c.queue;
        while (totalBytesToCopyRemaining > 0) {
            var head = queue.peek();
            var bytesToCopy = Math.min(totalBytesToCopyRemaining, head.byteLength);
            var destStart = pullInto.byteOffset + pullInto.bytesFilled;
            copyBytes(pullInto.buffer, destStart, head.buffer, head.byteOffset, bytesToCopy);
            if (head.byteLength === bytesToCopy) {
                queue.shift();
            } else {
                head.byteOffset += bytesToCopy;
                head.byteLength -= bytesToCopy;
            }
            c.queueTotalSize -= bytesToCopy;
            byteControllerFillHeadPullIntoDescriptor(c, bytesToCopy, pullInto);
            totalBytesToCopyRemaining -= bytesToCopy;
        }
        return ready;
    }

    function byteControllerHandleQueueDrain(c) {
        if (c.queueTotalSize === 0 && c.closeRequested) {
            byteControllerClearAlgorithms(c);
            readableStreamClose(c.stream);
        } else {
            byteControllerCallPullIfNeeded(c);
        }
    }

    function convertPullIntoDescriptor(pullInto) {
        return makeView(pullInto.viewCtor, pullInto.buffer, pullInto.byteOffset,
            pullInto.bytesFilled / pullInto.elementSize);
    }

    function byteControllerCommitPullIntoDescriptor(stream, pullInto) {
        var done = false;
        if (stream.state === 'closed') {
            done = true;
        }
        var filledView = convertPullIntoDescriptor(pullInto);
        var reader = stream.reader;
        if (pullInto.readerType === 'default') {
            fulfillReadRequest(stream, filledView, done);
        } else {
            var req = reader.readIntoRequests.shift();
            if (done) {
                req.close(filledView);
            } else {
                req.chunk(filledView);
            }
        }
    }

    function byteControllerProcessPullIntoDescriptorsUsingQueue(c) {
        while (c.pendingPullIntos.length > 0) {
            if (c.queueTotalSize === 0) {
                return;
            }
            var pullInto = c.pendingPullIntos[0];
            if (byteControllerFillPullIntoDescriptorFromQueue(c, pullInto)) {
                byteControllerShiftPendingPullInto(c);
                byteControllerCommitPullIntoDescriptor(c.stream, pullInto);
            }
        }
    }

    function byteControllerPullInto(c, view, min, req) {
        var stream = c.stream;
        var ctor = viewCtor(view);
        var esize = ctor === DataView ? 1 : elementSize(view);
        var minimumFill = min * esize;
        var buffer = transferBuffer(view.buffer);
        var pullInto = {
            buffer: buffer, bufferByteLength: buffer.byteLength, byteOffset: view.byteOffset,
            byteLength: view.byteLength, bytesFilled: 0, minimumFill: minimumFill, elementSize: esize,
            viewCtor: ctor, readerType: 'byob'
        };
        if (c.pendingPullIntos.length > 0) {
            c.pendingPullIntos.push(pullInto);
            stream.reader.readIntoRequests.push(req);
            return;
        }
        if (stream.state === 'closed') {
            req.close(makeView(ctor, pullInto.buffer, pullInto.byteOffset, 0));
            return;
        }
        if (c.queueTotalSize > 0) {
            if (byteControllerFillPullIntoDescriptorFromQueue(c, pullInto)) {
                var filledView = convertPullIntoDescriptor(pullInto);
                byteControllerHandleQueueDrain(c);
                req.chunk(filledView);
                return;
            }
            if (c.closeRequested) {
                var e = new TypeError('Insufficient bytes to fill elements in the given buffer');
                byteControllerError(c, e);
                req.error(e);
                return;
            }
        }
        c.pendingPullIntos.push(pullInto);
        stream.reader.readIntoRequests.push(req);
        byteControllerCallPullIfNeeded(c);
    }

    function byteControllerRespondInClosedState(c, first) {
        if (first.readerType === 'none') {
            byteControllerShiftPendingPullInto(c);
        }
        var stream = c.stream;
        if (hasBYOBReader(stream)) {
            while (stream.reader.readIntoRequests.length > 0) {
                byteControllerCommitPullIntoDescriptor(stream, byteControllerShiftPendingPullInto(c));
            }
        }
    }

    function byteControllerRespondInReadableState(c, bytesWritten, pullInto) {
        byteControllerFillHeadPullIntoDescriptor(c, bytesWritten, pullInto);
        if (pullInto.readerType === 'none') {
            byteControllerEnqueueDetachedPullIntoToQueue(c, pullInto);
            byteControllerProcessPullIntoDescriptorsUsingQueue(c);
            return;
        }
        if (pullInto.bytesFilled < pullInto.minimumFill) {
            return;
        }
        byteControllerShiftPendingPullInto(c);
        var remainderSize = pullInto.bytesFilled % pullInto.elementSize;
        if (remainderSize > 0) {
            var end = pullInto.byteOffset + pullInto.bytesFilled;
            byteControllerEnqueueClonedChunkToQueue(c, pullInto.buffer, end - remainderSize, remainderSize);
        }
        pullInto.bytesFilled -= remainderSize;
        byteControllerCommitPullIntoDescriptor(c.stream, pullInto);
        byteControllerProcessPullIntoDescriptorsUsingQueue(c);
    }

    function byteControllerRespondInternal(c, bytesWritten) {
        var first = c.pendingPullIntos[0];
        byteControllerInvalidateBYOBRequest(c);
        if (c.stream.state === 'closed') {
            byteControllerRespondInClosedState(c, first);
        } else {
            byteControllerRespondInReadableState(c, bytesWritten, first);
        }
        byteControllerCallPullIfNeeded(c);
    }

    function byteControllerRespond(c, bytesWritten) {
        var first = c.pendingPullIntos[0];
        var state = c.stream.state;
        if (state === 'closed') {
            if (bytesWritten !== 0) {
                throw new TypeError('bytesWritten must be 0 when calling respond() on a closed stream');
            }
        } else {
            if (bytesWritten === 0) {
                throw new TypeError('bytesWritten must be greater than 0 when calling respond() on a readable stream');
            }
            if (first.bytesFilled + bytesWritten > first.byteLength) {
                throw new RangeError('bytesWritten out of range');
            }
        }
        first.buffer = transferBuffer(first.buffer);
        byteControllerRespondInternal(c, bytesWritten);
    }

    function byteControllerRespondWithNewView(c, view) {
        var first = c.pendingPullIntos[0];
        var state = c.stream.state;
        if (state === 'closed') {
            if (view.byteLength !== 0) {
                throw new TypeError('The view\'s length must be 0 when calling respondWithNewView() on a closed stream');
            }
        } else if (view.byteLength === 0) {
            throw new TypeError('The view\'s length must be greater than 0 when calling respondWithNewView() on a readable stream');
        }
        if (first.byteOffset + first.bytesFilled !== view.byteOffset) {
            throw new RangeError('The region specified by view does not match byobRequest');
        }
        if (first.bufferByteLength !== view.buffer.byteLength) {
            throw new RangeError('The buffer of view has different capacity than byobRequest');
        }
        if (first.bytesFilled + view.byteLength > first.byteLength) {
            throw new RangeError('The region specified by view is larger than byobRequest');
        }
        var viewByteLength = view.byteLength;
        first.buffer = transferBuffer(view.buffer);
        byteControllerRespondInternal(c, viewByteLength);
    }

    function byteControllerGetBYOBRequest(c) {
        if (c.byobRequest === null && c.pendingPullIntos.length > 0) {
            var first = c.pendingPullIntos[0];
            var view = new Uint8Array(first.buffer, first.byteOffset + first.bytesFilled,
                first.byteLength - first.bytesFilled);
            var req = setSlot(create(ReadableStreamBYOBRequest.prototype), { kind: 'BYOBR', controller: c, view: view });
            c.byobRequest = req;
        }
        return c.byobRequest === null ? null : c.byobRequest.obj;
    }

    var byteControllerProto = {
        cancelSteps: function (reason) {
            byteControllerClearPendingPullIntos(this);
            resetQueue(this);
            var result = this.cancelAlgorithm(reason);
            byteControllerClearAlgorithms(this);
            return result;
        },
        pullSteps: function (req) {
            var c = this;
            var stream = c.stream;
            if (c.queueTotalSize > 0) {
                byteControllerFillReadRequestFromQueue(c, req);
                return;
            }
            var autoAllocate = c.autoAllocateChunkSize;
            if (autoAllocate !== undefined) {
                var buffer;
                try {
                    buffer = new ArrayBuffer(autoAllocate);
                } catch (e) {
                    req.error(e);
                    return;
                }
                c.pendingPullIntos.push({
                    buffer: buffer, bufferByteLength: autoAllocate, byteOffset: 0, byteLength: autoAllocate,
                    bytesFilled: 0, minimumFill: 1, elementSize: 1, viewCtor: Uint8Array, readerType: 'default'
                });
            }
            stream.reader.readRequests.push(req);
            byteControllerCallPullIfNeeded(c);
        },
        releaseSteps: function () {
            if (this.pendingPullIntos.length > 0) {
                var first = this.pendingPullIntos[0];
                first.readerType = 'none';
                this.pendingPullIntos = [first];
            }
        }
    };

    function setUpByteController(stream, startAlgorithm, pullAlgorithm, cancelAlgorithm, hwm, autoAllocate) {
        var c = setSlot(create(ReadableByteStreamController.prototype), create(byteControllerProto));
        c.kind = 'RBSC';
        c.stream = stream;
        c.pullAgain = c.pulling = c.started = c.closeRequested = false;
        c.byobRequest = null;
        resetQueue(c);
        c.strategyHWM = hwm;
        c.pullAlgorithm = pullAlgorithm;
        c.cancelAlgorithm = cancelAlgorithm;
        c.autoAllocateChunkSize = autoAllocate;
        c.pendingPullIntos = [];
        stream.controller = c;
        var startResult = startAlgorithm(c);
        upon(resolved(startResult), function () {
            c.started = true;
            byteControllerCallPullIfNeeded(c);
        }, function (r) {
            byteControllerError(c, r);
        });
        return c;
    }

    function setUpByteControllerFromSource(stream, src, hwm) {
        var a = sourceAlgorithms(src, 'underlyingSource');
        var autoAllocate = src.autoAllocateChunkSize;
        if (autoAllocate !== undefined) {
            autoAllocate = Number(autoAllocate);
            if (autoAllocate !== autoAllocate || Math.floor(autoAllocate) !== autoAllocate || autoAllocate <= 0) {
                throw new TypeError('autoAllocateChunkSize must be a positive integer.');
            }
        }
        setUpByteController(stream, a.start, a.pull, a.cancel, hwm, autoAllocate);
    }

    methods(ReadableByteStreamController.prototype, {
        close: function close() {
            var c = slotOf(this, 'RBSC');
            if (c.closeRequested) {
                throw new TypeError('The stream has already been closed.');
            }
            if (c.stream.state !== 'readable') {
                throw new TypeError('The stream is not in a state that permits close.');
            }
            byteControllerClose(c);
        },
        enqueue: function enqueue(chunk) {
            var c = slotOf(this, 'RBSC');
            if (!isView(chunk)) {
                throw new TypeError('chunk must be an ArrayBuffer view.');
            }
            if (chunk.byteLength === 0) {
                throw new TypeError('chunk must have non-zero byteLength');
            }
            if (chunk.buffer.byteLength === 0) {
                throw new TypeError("chunk's buffer must have non-zero byteLength");
            }
            if (c.closeRequested) {
                throw new TypeError('The stream has already been closed.');
            }
            if (c.stream.state !== 'readable') {
                throw new TypeError('The stream is not in a state that permits enqueue.');
            }
            byteControllerEnqueue(c, chunk);
        },
        error: function error(e) {
            byteControllerError(slotOf(this, 'RBSC'), e);
        }
    });
    getters(ReadableByteStreamController.prototype, {
        byobRequest: function () { return byteControllerGetBYOBRequest(slotOf(this, 'RBSC')); },
        desiredSize: function () { return byteControllerDesiredSize(slotOf(this, 'RBSC')); }
    });
    tag(ReadableByteStreamController.prototype, 'ReadableByteStreamController');

    methods(ReadableStreamBYOBRequest.prototype, {
        respond: function respond(bytesWritten) {
            var r = slotOf(this, 'BYOBR');
            if (r.controller === undefined) {
                throw new TypeError('This BYOB request has been invalidated');
            }
            var n = Number(bytesWritten);
            if (n !== n || n < 0 || Math.floor(n) !== n) {
                throw new TypeError('bytesWritten must be a non-negative integer.');
            }
            byteControllerRespond(r.controller, n);
        },
        respondWithNewView: function respondWithNewView(view) {
            var r = slotOf(this, 'BYOBR');
            if (!isView(view)) {
                throw new TypeError('view must be an ArrayBuffer view.');
            }
            if (r.controller === undefined) {
                throw new TypeError('This BYOB request has been invalidated');
            }
            byteControllerRespondWithNewView(r.controller, view);
        }
    });
    getters(ReadableStreamBYOBRequest.prototype, {
        view: function () { return slotOf(this, 'BYOBR').view; }
    });
    tag(ReadableStreamBYOBRequest.prototype, 'ReadableStreamBYOBRequest');

    /* ---- creating streams from algorithms (tee, from, TransformStream, C sources) ---- */

    function createReadableStream(start, pull, cancel, hwm, size) {
        var stream = newReadableStream();
        setUpDefaultController(stream, start, pull, cancel, hwm === undefined ? 1 : hwm, size || one);
        return stream;
    }

    function createByteStream(start, pull, cancel, hwm) {
        var stream = newReadableStream();
        setUpByteController(stream, start, pull, cancel, hwm === undefined ? 0 : hwm, undefined);
        return stream;
    }

    function noop() {
        return undefined;
    }

    /* One fulfilled promise for the algorithms' "a promise resolved with undefined": callers only react to
     * it, never settle or expose it, so it need not be new each time (one allocation less per chunk). */
    var RESOLVED = resolved(undefined);

    function resolvedUndefined() {
        return RESOLVED;
    }

    /* ---- tee ---- */

    function cloneChunkForBranch(chunk) {
        if (isView(chunk)) {
            var copy = new ArrayBuffer(chunk.byteLength);
            copyBytes(copy, 0, chunk.buffer, chunk.byteOffset, chunk.byteLength);
            return makeView(viewCtor(chunk), copy, 0,
                chunk instanceof DataView ? chunk.byteLength : chunk.byteLength / elementSize(chunk));
        }
        return chunk;
    }

    /* ReadableStreamDefaultTee. For byte streams the branches are byte streams (so BYOB readers work on them),
     * and each branch gets its own copy of every chunk. */
    function readableStreamTee(stream) {
        var bytes = stream.controller.kind === 'RBSC';
        var reader = acquireDefaultReader(stream);
        var reading = false, readAgain = false, canceled1 = false, canceled2 = false;
        var reason1, reason2, branch1, branch2;
        var cancelPromise = newPromise();

        function enqueueTo(branch, chunk) {
            if (bytes) {
                byteControllerEnqueue(branch.controller, chunk);
            } else {
                defaultControllerEnqueue(branch.controller, chunk);
            }
        }

        function closeBranch(branch) {
            if (bytes) {
                byteControllerClose(branch.controller);
                var pending = branch.controller.pendingPullIntos;
                if (pending.length > 0) {
                    byteControllerRespond(branch.controller, 0);
                }
            } else {
                defaultControllerClose(branch.controller);
            }
        }

        function errorBranch(branch, e) {
            if (bytes) {
                byteControllerError(branch.controller, e);
            } else {
                defaultControllerError(branch.controller, e);
            }
        }

        var teeRequest = {
            chunk: function (chunk) {
                queueMicrotask(function () {
                    readAgain = false;
                    var chunk1 = chunk, chunk2 = chunk;
                    if (bytes || !canceled1 && !canceled2) {
                        chunk2 = cloneChunkForBranch(chunk);
                        if (bytes && !canceled1) {
                            chunk1 = cloneChunkForBranch(chunk);
                        }
                    }
                    if (!canceled1) {
                        enqueueTo(branch1, chunk1);
                    }
                    if (!canceled2) {
                        enqueueTo(branch2, chunk2);
                    }
                    reading = false;
                    if (readAgain) {
                        pullAlgorithm();
                    }
                });
            },
            close: function () {
                reading = false;
                if (!canceled1) {
                    closeBranch(branch1);
                }
                if (!canceled2) {
                    closeBranch(branch2);
                }
                if (!canceled1 || !canceled2) {
                    settle(cancelPromise, undefined, false);
                }
            },
            error: function () {
                reading = false;
            }
        };

        function pullAlgorithm() {
            if (reading) {
                readAgain = true;
                return resolved(undefined);
            }
            reading = true;
            defaultReaderRead(reader, teeRequest);
            return resolved(undefined);
        }

        function cancel1(reason) {
            canceled1 = true;
            reason1 = reason;
            if (canceled2) {
                settle(cancelPromise, readableStreamCancel(stream, [reason1, reason2]), false);
            }
            return cancelPromise;
        }

        function cancel2(reason) {
            canceled2 = true;
            reason2 = reason;
            if (canceled1) {
                settle(cancelPromise, readableStreamCancel(stream, [reason1, reason2]), false);
            }
            return cancelPromise;
        }

        if (bytes) {
            branch1 = createByteStream(noop, pullAlgorithm, cancel1);
            branch2 = createByteStream(noop, pullAlgorithm, cancel2);
        } else {
            branch1 = createReadableStream(noop, pullAlgorithm, cancel1);
            branch2 = createReadableStream(noop, pullAlgorithm, cancel2);
        }
        upon(reader.closedPromise, undefined, function (r) {
            errorBranch(branch1, r);
            errorBranch(branch2, r);
            if (!canceled1 || !canceled2) {
                settle(cancelPromise, undefined, false);
            }
        });
        return [branch1, branch2];
    }

    /* ---- pipeTo ---- */

    function readableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
        var reader = acquireDefaultReader(source);
        var writer = acquireDefaultWriter(dest);
        source.disturbed = true;
        var shuttingDown = false;
        var promise = newPromise();
        var currentWrite = resolved(undefined);
        var abortAlgorithm;

        function finalize(isError, error) {
            writerRelease(writer);
            if (reader.stream !== null) {
                defaultReaderRelease(reader);
            }
            if (signal !== undefined && abortAlgorithm !== undefined) {
                signal.removeEventListener('abort', abortAlgorithm);
            }
            settle(promise, error, isError);
        }

        function waitForWritesToFinish() {
            var old = currentWrite;
            return transform(old, function () {
                return old !== currentWrite ? waitForWritesToFinish() : undefined;
            });
        }

        function shutdownWithAction(action, originalIsError, originalError) {
            if (shuttingDown) {
                return;
            }
            shuttingDown = true;
            function doTheRest() {
                upon(action(), function () {
                    finalize(originalIsError, originalError);
                }, function (e) {
                    finalize(true, e);
                });
            }
            if (dest.state === 'writable' && !writableStreamCloseQueuedOrInFlight(dest)) {
                upon(waitForWritesToFinish(), doTheRest);
            } else {
                doTheRest();
            }
        }

        function shutdown(isError, error) {
            if (shuttingDown) {
                return;
            }
            shuttingDown = true;
            if (dest.state === 'writable' && !writableStreamCloseQueuedOrInFlight(dest)) {
                upon(waitForWritesToFinish(), function () {
                    finalize(isError, error);
                });
            } else {
                finalize(isError, error);
            }
        }

        if (signal !== undefined) {
            abortAlgorithm = function () {
                var error = signal.reason;
                var actions = [];
                if (!preventAbort) {
                    actions.push(function () {
                        return dest.state === 'writable' ? writableStreamAbort(dest, error) : resolved(undefined);
                    });
                }
                if (!preventCancel) {
                    actions.push(function () {
                        return source.state === 'readable' ? readableStreamCancel(source, error) : resolved(undefined);
                    });
                }
                shutdownWithAction(function () {
                    return global.Promise.all(actions.map(function (a) { return a(); }));
                }, true, error);
            };
            if (signal.aborted) {
                abortAlgorithm();
                return promise;
            }
            signal.addEventListener('abort', abortAlgorithm);
        }

        /* Error and close propagation, checked now and whenever the streams change state. */
        function checkStates() {
            if (shuttingDown) {
                return true;
            }
            if (source.state === 'errored') {
                var se = source.storedError;
                if (!preventAbort) {
                    shutdownWithAction(function () { return writableStreamAbort(dest, se); }, true, se);
                } else {
                    shutdown(true, se);
                }
                return true;
            }
            if (dest.state === 'errored' || dest.state === 'erroring') {
                var de = dest.storedError;
                if (!preventCancel) {
                    shutdownWithAction(function () { return readableStreamCancel(source, de); }, true, de);
                } else {
                    shutdown(true, de);
                }
                return true;
            }
            if (source.state === 'closed') {
                if (!preventClose) {
                    shutdownWithAction(function () { return writableStreamDefaultWriterCloseWithErrorPropagation(writer); },
                        false, undefined);
                } else {
                    shutdown(false, undefined);
                }
                return true;
            }
            if (writableStreamCloseQueuedOrInFlight(dest) || dest.state === 'closed') {
                var ce = new TypeError('the destination writable stream closed before all data could be piped to it');
                if (!preventCancel) {
                    shutdownWithAction(function () { return readableStreamCancel(source, ce); }, true, ce);
                } else {
                    shutdown(true, ce);
                }
                return true;
            }
            return false;
        }

        upon(reader.closedPromise, function () { checkStates(); }, function () { checkStates(); });
        upon(writer.closedPromise, function () { checkStates(); }, function () { checkStates(); });

        var pipeRequest = {
            chunk: function (chunk) {
                currentWrite = transform(writableStreamDefaultWriterWrite(writer, chunk), noop, noop);
                markHandled(currentWrite);
                pump();
            },
            close: function () { checkStates(); },
            error: function () { checkStates(); }
        };

        var readyOk = ({
            ok() {
                if (!checkStates()) {
                    defaultReaderRead(reader, pipeRequest);
                }
            }
        }).ok;

        function pump() {
            if (checkStates()) {
                return;
            }
            upon(writer.readyPromise, readyOk, checkStates);
        }

        pump();
        return promise;
    }

    /* ---- async iteration ---- */

    var AsyncIteratorPrototype = {};
    hide(AsyncIteratorPrototype, symAsyncIterator, function () { return this; });

    var ReadableStreamAsyncIteratorPrototype = create(AsyncIteratorPrototype);

    function IterReadRequest(p, it) {
        this.p = p;
        this.it = it;
    }
    IterReadRequest.prototype.chunk = function (c) {
        this.it.ongoing = null;
        settle(this.p, iterResult(c, false), false);
    };
    IterReadRequest.prototype.close = function () {
        var it = this.it;
        it.ongoing = null;
        it.finished = true;
        defaultReaderRelease(it.reader);
        settle(this.p, iterResult(undefined, true), false);
    };
    IterReadRequest.prototype.error = function (e) {
        var it = this.it;
        it.ongoing = null;
        it.finished = true;
        defaultReaderRelease(it.reader);
        settle(this.p, e, true);
    };

    function iterNextSteps(it) {
        if (it.finished) {
            return resolved(iterResult(undefined, true));
        }
        var reader = it.reader;
        if (reader.stream === null) {
            return rejected(new TypeError(RELEASED));
        }
        var p = newPromise();
        defaultReaderRead(reader, new IterReadRequest(p, it));
        return p;
    }

    function iterReturnSteps(it, value) {
        if (it.finished) {
            return resolved(iterResult(value, true));
        }
        it.finished = true;
        var reader = it.reader;
        if (reader.stream === null) {
            return resolved(iterResult(value, true));
        }
        if (!it.preventCancel) {
            var result = readerGenericCancel(reader, value);
            defaultReaderRelease(reader);
            return transform(result, function () { return iterResult(value, true); });
        }
        defaultReaderRelease(reader);
        return resolved(iterResult(value, true));
    }

    methods(ReadableStreamAsyncIteratorPrototype, {
        next: function next() {
            var it;
            try {
                it = slotOf(this, 'RSAI');
            } catch (e) {
                return rejected(e);
            }
            if (!it.ongoing) {
                it.ongoing = iterNextSteps(it);
                return it.ongoing;
            }
            var run = ({ run() { return iterNextSteps(it); } }).run;
            it.ongoing = transform(it.ongoing, run, run);
            return it.ongoing;
        },
        'return': function (value) {
            var it;
            try {
                it = slotOf(this, 'RSAI');
            } catch (e) {
                return rejected(e);
            }
            var run = function () { return iterReturnSteps(it, value); };
            return it.ongoing ? transform(it.ongoing, run, run) : run();
        }
    });
    tag(ReadableStreamAsyncIteratorPrototype, 'ReadableStream AsyncIterator');

    function readableStreamValues(stream, options) {
        options = dictionary(options, 'options');
        var reader = acquireDefaultReader(stream);
        var it = setSlot(create(ReadableStreamAsyncIteratorPrototype), {
            kind: 'RSAI', reader: reader, preventCancel: !!options.preventCancel, finished: false, ongoing: null
        });
        return it.obj;
    }

    /* ---- ReadableStream.from ---- */

    function readableStreamFromIterable(asyncIterable) {
        var method = asyncIterable == null ? undefined : asyncIterable[symAsyncIterator];
        var iterator, nextMethod, sync = false;
        if (method === undefined || method === null) {
            method = asyncIterable == null ? undefined : asyncIterable[symIterator];
            sync = true;
        }
        if (typeof method !== 'function') {
            throw new TypeError('ReadableStream.from() requires an iterable or async iterable.');
        }
        iterator = method.call(asyncIterable);
        if (!isObject(iterator)) {
            throw new TypeError('The iterator method did not return an object.');
        }
        nextMethod = iterator.next;

        function pull(c) {
            var nextResult;
            try {
                nextResult = nextMethod.call(iterator);
            } catch (e) {
                return rejected(e);
            }
            var step = function (r) {
                if (!isObject(r)) {
                    throw new TypeError('The iterator result is not an object.');
                }
                if (r.done) {
                    defaultControllerClose(c);
                    return undefined;
                }
                if (sync) {
                    return transform(resolved(r.value), function (v) { defaultControllerEnqueue(c, v); });
                }
                defaultControllerEnqueue(c, r.value);
                return undefined;
            };
            return transform(sync ? resolved(nextResult) : resolved(nextResult), step);
        }

        function cancel(reason) {
            var ret;
            try {
                ret = iterator['return'];
            } catch (e) {
                return rejected(e);
            }
            if (ret === undefined || ret === null) {
                return resolved(undefined);
            }
            var r;
            try {
                r = ret.call(iterator, reason);
            } catch (e2) {
                return rejected(e2);
            }
            return transform(resolved(r), function (v) {
                if (!isObject(v)) {
                    throw new TypeError('The iterator return() result is not an object.');
                }
                return undefined;
            });
        }

        return createReadableStream(noop, pull, cancel, 0);
    }

    /* ---- ReadableStream's public surface ---- */

    methods(ReadableStream.prototype, {
        cancel: function cancel(reason) {
            var stream;
            try {
                stream = slotOf(this, 'RS');
            } catch (e) {
                return rejected(e);
            }
            if (isLocked(stream)) {
                return rejected(new TypeError(LOCKED));
            }
            return readableStreamCancel(stream, reason);
        },
        getReader: function getReader(options) {
            var stream = slotOf(this, 'RS');
            options = dictionary(options, 'options');
            var mode = options.mode;
            if (mode === undefined) {
                return acquireDefaultReader(stream).obj;
            }
            if (String(mode) !== 'byob') {
                throw new TypeError("Failed to execute 'getReader' on 'ReadableStream': invalid mode '" +
                    String(mode) + "'.");
            }
            return acquireBYOBReader(stream).obj;
        },
        pipeThrough: function pipeThrough(transformPair, options) {
            var stream = slotOf(this, 'RS');
            if (!isObject(transformPair)) {
                throw new TypeError("Failed to execute 'pipeThrough': the transform argument must be an object.");
            }
            var readable = slotOf(transformPair.readable, 'RS');
            var writable = slotOf(transformPair.writable, 'WS');
            var o = pipeOptions(options);
            if (isLocked(stream)) {
                throw new TypeError(LOCKED);
            }
            if (writable.writer !== null) {
                throw new TypeError(WLOCKED);
            }
            markHandled(readableStreamPipeTo(stream, writable, o.preventClose, o.preventAbort, o.preventCancel,
                o.signal));
            return readable.obj;
        },
        pipeTo: function pipeTo(destination, options) {
            var stream, dest, o;
            try {
                stream = slotOf(this, 'RS');
                if (!has(destination, 'WS')) {
                    throw new TypeError("Failed to execute 'pipeTo' on 'ReadableStream': parameter 1 is not of type " +
                        "'WritableStream'.");
                }
                dest = destination[S];
                o = pipeOptions(options);
            } catch (e) {
                return rejected(e);
            }
            if (isLocked(stream)) {
                return rejected(new TypeError(LOCKED));
            }
            if (dest.writer !== null) {
                return rejected(new TypeError(WLOCKED));
            }
            return readableStreamPipeTo(stream, dest, o.preventClose, o.preventAbort, o.preventCancel, o.signal);
        },
        tee: function tee() {
            var branches = readableStreamTee(slotOf(this, 'RS'));
            return [branches[0].obj, branches[1].obj];
        },
        values: function values(options) {
            return readableStreamValues(slotOf(this, 'RS'), options);
        }
    });
    hide(ReadableStream.prototype, symAsyncIterator, ReadableStream.prototype.values);
    getters(ReadableStream.prototype, {
        locked: function () { return isLocked(slotOf(this, 'RS')); }
    });
    tag(ReadableStream.prototype, 'ReadableStream');
    hide(ReadableStream, 'from', function from(asyncIterable) {
        return readableStreamFromIterable(asyncIterable).obj;
    });

    function pipeOptions(options) {
        options = dictionary(options, 'options');
        var signal = options.signal;
        if (signal !== undefined) {
            if (!isObject(signal) || typeof signal.addEventListener !== 'function' || !('aborted' in signal)) {
                throw new TypeError("Failed to execute 'pipeTo': options.signal is not an AbortSignal.");
            }
        }
        return {
            preventClose: !!options.preventClose, preventAbort: !!options.preventAbort,
            preventCancel: !!options.preventCancel, signal: signal
        };
    }

    /* ===========================================================================================================
     * WritableStream
     */

    function WritableStream(underlyingSink, strategy) {
        if (!(this instanceof WritableStream)) {
            throw new TypeError("Failed to construct 'WritableStream': Please use the 'new' operator.");
        }
        if (underlyingSink === null) {
            underlyingSink = undefined;
        }
        var sink = dictionary(underlyingSink, 'underlyingSink');
        strategy = dictionary(strategy, 'strategy');
        var size = extractSize(strategy);
        var hwm = extractHWM(strategy, 1);
        if (sink.type !== undefined) {
            throw new RangeError('Invalid type is specified');
        }
        var stream = initWritableStream(this);
        setUpWritableControllerFromSink(stream, sink, hwm, size);
    }

    function initWritableStream(obj) {
        return setSlot(obj, {
            kind: 'WS', state: 'writable', storedError: undefined, writer: null, controller: null,
            inFlightWriteRequest: null, closeRequest: null, inFlightCloseRequest: null, pendingAbortRequest: null,
            writeRequests: new Queue(), backpressure: false
        });
    }

    function createWritableStream(start, write, close, abort, hwm, size) {
        var stream = initWritableStream(create(WritableStream.prototype));
        setUpWritableController(stream, start, write, close, abort, hwm === undefined ? 1 : hwm, size || one);
        return stream;
    }

    function writableStreamAbort(stream, reason) {
        if (stream.state === 'closed' || stream.state === 'errored') {
            return resolved(undefined);
        }
        var ac = stream.controller.abortController;
        if (ac) {
            ac.abort(reason);
        }
        var state = stream.state;
        if (state === 'closed' || state === 'errored') {
            return resolved(undefined);
        }
        if (stream.pendingAbortRequest !== null) {
            return stream.pendingAbortRequest.promise;
        }
        var wasAlreadyErroring = false;
        if (state === 'erroring') {
            wasAlreadyErroring = true;
            reason = undefined;
        }
        var p = newPromise();
        stream.pendingAbortRequest = { promise: p, reason: reason, wasAlreadyErroring: wasAlreadyErroring };
        if (!wasAlreadyErroring) {
            writableStreamStartErroring(stream, reason);
        }
        return p;
    }

    function writableStreamClose(stream) {
        var state = stream.state;
        if (state === 'closed' || state === 'errored') {
            return rejected(new TypeError('This WritableStream has been closed.'));
        }
        var p = newPromise();
        stream.closeRequest = p;
        var writer = stream.writer;
        if (writer !== null && stream.backpressure && state === 'writable') {
            settle(writer.readyPromise, undefined, false);
        }
        writableControllerClose(stream.controller);
        return p;
    }

    function writableStreamAddWriteRequest(stream) {
        var p = newPromise();
        stream.writeRequests.push(p);
        return p;
    }

    function writableStreamDealWithRejection(stream, error) {
        if (stream.state === 'writable') {
            writableStreamStartErroring(stream, error);
            return;
        }
        writableStreamFinishErroring(stream);
    }

    function writableStreamStartErroring(stream, reason) {
        var c = stream.controller;
        stream.state = 'erroring';
        stream.storedError = reason;
        var writer = stream.writer;
        if (writer !== null) {
            writerEnsureReadyPromiseRejected(writer, reason);
        }
        if (!writableStreamHasOperationMarkedInFlight(stream) && c.started) {
            writableStreamFinishErroring(stream);
        }
    }

    function writableStreamFinishErroring(stream) {
        stream.state = 'errored';
        stream.controller.errorSteps();
        var storedError = stream.storedError;
        var reqs = stream.writeRequests;
        stream.writeRequests = new Queue();
        while (reqs.size() > 0) {
            settle(reqs.shift(), storedError, true);
        }
        var abortRequest = stream.pendingAbortRequest;
        if (abortRequest === null) {
            writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
            return;
        }
        stream.pendingAbortRequest = null;
        if (abortRequest.wasAlreadyErroring) {
            settle(abortRequest.promise, storedError, true);
            writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
            return;
        }
        var promise = stream.controller.abortSteps(abortRequest.reason);
        upon(promise, function () {
            settle(abortRequest.promise, undefined, false);
            writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
        }, function (reason) {
            settle(abortRequest.promise, reason, true);
            writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
        });
    }

    function writableStreamFinishInFlightWrite(stream) {
        settle(stream.inFlightWriteRequest, undefined, false);
        stream.inFlightWriteRequest = null;
    }

    function writableStreamFinishInFlightWriteWithError(stream, error) {
        settle(stream.inFlightWriteRequest, error, true);
        stream.inFlightWriteRequest = null;
        writableStreamDealWithRejection(stream, error);
    }

    function writableStreamFinishInFlightClose(stream) {
        settle(stream.inFlightCloseRequest, undefined, false);
        stream.inFlightCloseRequest = null;
        if (stream.state === 'erroring') {
            stream.storedError = undefined;
            if (stream.pendingAbortRequest !== null) {
                settle(stream.pendingAbortRequest.promise, undefined, false);
                stream.pendingAbortRequest = null;
            }
        }
        stream.state = 'closed';
        var writer = stream.writer;
        if (writer !== null) {
            settle(writer.closedPromise, undefined, false);
        }
    }

    function writableStreamFinishInFlightCloseWithError(stream, error) {
        settle(stream.inFlightCloseRequest, error, true);
        stream.inFlightCloseRequest = null;
        if (stream.pendingAbortRequest !== null) {
            settle(stream.pendingAbortRequest.promise, error, true);
            stream.pendingAbortRequest = null;
        }
        writableStreamDealWithRejection(stream, error);
    }

    function writableStreamCloseQueuedOrInFlight(stream) {
        return stream.closeRequest !== null || stream.inFlightCloseRequest !== null;
    }

    function writableStreamHasOperationMarkedInFlight(stream) {
        return stream.inFlightWriteRequest !== null || stream.inFlightCloseRequest !== null;
    }

    function writableStreamMarkCloseRequestInFlight(stream) {
        stream.inFlightCloseRequest = stream.closeRequest;
        stream.closeRequest = null;
    }

    function writableStreamMarkFirstWriteRequestInFlight(stream) {
        stream.inFlightWriteRequest = stream.writeRequests.shift();
    }

    function writableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
        if (stream.closeRequest !== null) {
            settle(stream.closeRequest, stream.storedError, true);
            stream.closeRequest = null;
        }
        var writer = stream.writer;
        if (writer !== null) {
            settle(writer.closedPromise, stream.storedError, true);
            markHandled(writer.closedPromise);
        }
    }

    function writableStreamUpdateBackpressure(stream, backpressure) {
        var writer = stream.writer;
        if (writer !== null && backpressure !== stream.backpressure) {
            if (backpressure) {
                writer.readyPromise = newPromise();
            } else {
                settle(writer.readyPromise, undefined, false);
            }
        }
        stream.backpressure = backpressure;
    }

    /* ---- WritableStreamDefaultWriter ---- */

    function setUpWriter(obj, stream) {
        if (stream.writer !== null) {
            throw new TypeError(WLOCKED);
        }
        var writer = setSlot(obj, { kind: 'WSDW', stream: stream, readyPromise: null, closedPromise: null });
        stream.writer = writer;
        var state = stream.state;
        if (state === 'writable') {
            if (!writableStreamCloseQueuedOrInFlight(stream) && stream.backpressure) {
                writer.readyPromise = newPromise();
            } else {
                writer.readyPromise = resolved(undefined);
            }
            writer.closedPromise = newPromise();
        } else if (state === 'erroring') {
            writer.readyPromise = rejected(stream.storedError);
            markHandled(writer.readyPromise);
            writer.closedPromise = newPromise();
        } else if (state === 'closed') {
            writer.readyPromise = resolved(undefined);
            writer.closedPromise = resolved(undefined);
        } else {
            writer.readyPromise = rejected(stream.storedError);
            markHandled(writer.readyPromise);
            writer.closedPromise = rejected(stream.storedError);
            markHandled(writer.closedPromise);
        }
        return writer;
    }

    function acquireDefaultWriter(stream) {
        return setUpWriter(create(WritableStreamDefaultWriter.prototype), stream);
    }

    function writerEnsureClosedPromiseRejected(writer, error) {
        if (native.state(writer.closedPromise) === 0) {
            settle(writer.closedPromise, error, true);
        } else {
            writer.closedPromise = rejected(error);
        }
        markHandled(writer.closedPromise);
    }

    function writerEnsureReadyPromiseRejected(writer, error) {
        if (native.state(writer.readyPromise) === 0) {
            settle(writer.readyPromise, error, true);
        } else {
            writer.readyPromise = rejected(error);
        }
        markHandled(writer.readyPromise);
    }

    function writerGetDesiredSize(writer) {
        var state = writer.stream.state;
        if (state === 'errored' || state === 'erroring') {
            return null;
        }
        if (state === 'closed') {
            return 0;
        }
        return writableControllerGetDesiredSize(writer.stream.controller);
    }

    function writerRelease(writer) {
        var stream = writer.stream;
        var e = new TypeError(WRELEASED);
        writerEnsureReadyPromiseRejected(writer, e);
        writerEnsureClosedPromiseRejected(writer, e);
        stream.writer = null;
        writer.stream = null;
    }

    function writableStreamDefaultWriterWrite(writer, chunk) {
        var stream = writer.stream;
        var c = stream.controller;
        var chunkSize = writableControllerGetChunkSize(c, chunk);
        if (stream !== writer.stream) {
            return rejected(new TypeError(WRELEASED));
        }
        var state = stream.state;
        if (state === 'errored') {
            return rejected(stream.storedError);
        }
        if (writableStreamCloseQueuedOrInFlight(stream) || state === 'closed') {
            return rejected(new TypeError('This WritableStream is closed.'));
        }
        if (state === 'erroring') {
            return rejected(stream.storedError);
        }
        var p = writableStreamAddWriteRequest(stream);
        writableControllerWrite(c, chunk, chunkSize);
        return p;
    }

    function writableStreamDefaultWriterClose(writer) {
        return writableStreamClose(writer.stream);
    }

    function writableStreamDefaultWriterCloseWithErrorPropagation(writer) {
        var stream = writer.stream;
        var state = stream.state;
        if (writableStreamCloseQueuedOrInFlight(stream) || state === 'closed') {
            return resolved(undefined);
        }
        if (state === 'errored') {
            return rejected(stream.storedError);
        }
        return writableStreamDefaultWriterClose(writer);
    }

    function WritableStreamDefaultWriter(stream) {
        if (!(this instanceof WritableStreamDefaultWriter)) {
            throw new TypeError("Failed to construct 'WritableStreamDefaultWriter': Please use the 'new' operator.");
        }
        setUpWriter(this, slotOf(stream, 'WS'));
    }

    function writerOrReject(self) {
        var w = slotOf(self, 'WSDW');
        if (w.stream === null) {
            throw new TypeError(WRELEASED);
        }
        return w;
    }

    methods(WritableStreamDefaultWriter.prototype, {
        abort: function abort(reason) {
            var w;
            try {
                w = writerOrReject(this);
            } catch (e) {
                return rejected(e);
            }
            return writableStreamAbort(w.stream, reason);
        },
        close: function close() {
            var w;
            try {
                w = writerOrReject(this);
            } catch (e) {
                return rejected(e);
            }
            if (writableStreamCloseQueuedOrInFlight(w.stream)) {
                return rejected(new TypeError('This WritableStream is closed.'));
            }
            return writableStreamDefaultWriterClose(w);
        },
        releaseLock: function releaseLock() {
            var w = slotOf(this, 'WSDW');
            if (w.stream !== null) {
                writerRelease(w);
            }
        },
        write: function write(chunk) {
            var w;
            try {
                w = writerOrReject(this);
            } catch (e) {
                return rejected(e);
            }
            return writableStreamDefaultWriterWrite(w, chunk);
        }
    });
    getters(WritableStreamDefaultWriter.prototype, {
        closed: function () {
            try {
                return slotOf(this, 'WSDW').closedPromise;
            } catch (e) {
                return rejected(e);
            }
        },
        ready: function () {
            try {
                return slotOf(this, 'WSDW').readyPromise;
            } catch (e) {
                return rejected(e);
            }
        },
        desiredSize: function () {
            var w = slotOf(this, 'WSDW');
            if (w.stream === null) {
                throw new TypeError(WRELEASED);
            }
            return writerGetDesiredSize(w);
        }
    });
    tag(WritableStreamDefaultWriter.prototype, 'WritableStreamDefaultWriter');

    /* ---- WritableStreamDefaultController ---- */

    function WritableStreamDefaultController() {
        throw new TypeError('Illegal constructor');
    }

    var closeSentinel = {};

    var writableControllerProto = {
        abortSteps: function (reason) {
            var result = this.abortAlgorithm(reason);
            writableControllerClearAlgorithms(this);
            return result;
        },
        errorSteps: function () {
            resetQueue(this);
        }
    };

    function setUpWritableController(stream, start, write, close, abort, hwm, size) {
        var c = setSlot(create(WritableStreamDefaultController.prototype), create(writableControllerProto));
        c.kind = 'WSDC';
        c.stream = stream;
        stream.controller = c;
        resetQueue(c);
        c.abortController = null;
        c.started = false;
        c.strategySize = size;
        c.strategyHWM = hwm;
        c.writeAlgorithm = write;
        c.closeAlgorithm = close;
        c.abortAlgorithm = abort;
        writableStreamUpdateBackpressure(stream, writableControllerGetBackpressure(c));
        var startResult = start(c);
        upon(resolved(startResult), function () {
            c.started = true;
            writableControllerAdvanceQueueIfNeeded(c);
        }, function (r) {
            c.started = true;
            writableStreamDealWithRejection(stream, r);
        });
        return c;
    }

    function setUpWritableControllerFromSink(stream, sink, hwm, size) {
        var start = getMethod(sink, 'start', 'underlyingSink.start');
        var write = getMethod(sink, 'write', 'underlyingSink.write');
        var close = getMethod(sink, 'close', 'underlyingSink.close');
        var abort = getMethod(sink, 'abort', 'underlyingSink.abort');
        setUpWritableController(stream,
            start ? function (c) { return start.call(sink, c.obj); } : noop,
            write ? function (chunk, c) { return promiseCall(write, sink, [chunk, c.obj]); } : resolvedUndefined,
            close ? function () { return promiseCall(close, sink, []); } : resolvedUndefined,
            abort ? function (r) { return promiseCall(abort, sink, [r]); } : resolvedUndefined,
            hwm, size);
    }

    function writableControllerClearAlgorithms(c) {
        c.writeAlgorithm = undefined;
        c.closeAlgorithm = undefined;
        c.abortAlgorithm = undefined;
        c.strategySize = undefined;
    }

    function writableControllerClose(c) {
        c.queue.push({ value: closeSentinel, size: 0 });
        writableControllerAdvanceQueueIfNeeded(c);
    }

    function writableControllerGetChunkSize(c, chunk) {
        if (c.strategySize === undefined) {
            return 1;
        }
        try {
            return c.strategySize(chunk);
        } catch (e) {
            writableControllerErrorIfNeeded(c, e);
            return 1;
        }
    }

    function writableControllerGetDesiredSize(c) {
        return c.strategyHWM - c.queueTotalSize;
    }

    function writableControllerWrite(c, chunk, chunkSize) {
        try {
            enqueueValueWithSize(c, chunk, chunkSize);
        } catch (e) {
            writableControllerErrorIfNeeded(c, e);
            return;
        }
        var stream = c.stream;
        if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === 'writable') {
            writableStreamUpdateBackpressure(stream, writableControllerGetBackpressure(c));
        }
        writableControllerAdvanceQueueIfNeeded(c);
    }

    function writableControllerAdvanceQueueIfNeeded(c) {
        var stream = c.stream;
        if (!c.started || stream.inFlightWriteRequest !== null) {
            return;
        }
        if (stream.state === 'erroring') {
            writableStreamFinishErroring(stream);
            return;
        }
        if (c.queue.size() === 0) {
            return;
        }
        var value = c.queue.peek().value;
        if (value === closeSentinel) {
            writableControllerProcessClose(c);
        } else {
            writableControllerProcessWrite(c, value);
        }
    }

    function writableControllerErrorIfNeeded(c, error) {
        if (c.stream.state === 'writable') {
            writableControllerError(c, error);
        }
    }

    function writableControllerProcessClose(c) {
        var stream = c.stream;
        writableStreamMarkCloseRequestInFlight(stream);
        dequeueValue(c);
        var sinkClosePromise = c.closeAlgorithm();
        writableControllerClearAlgorithms(c);
        upon(sinkClosePromise, function () {
            writableStreamFinishInFlightClose(stream);
        }, function (reason) {
            writableStreamFinishInFlightCloseWithError(stream, reason);
        });
    }

    function writableControllerProcessWrite(c, chunk) {
        var stream = c.stream;
        writableStreamMarkFirstWriteRequestInFlight(stream);
        var r = {
            ok() {
                writableStreamFinishInFlightWrite(stream);
                var state = stream.state;
                dequeueValue(c);
                if (!writableStreamCloseQueuedOrInFlight(stream) && state === 'writable') {
                    writableStreamUpdateBackpressure(stream, writableControllerGetBackpressure(c));
                }
                writableControllerAdvanceQueueIfNeeded(c);
            },
            fail(reason) {
                if (stream.state === 'writable') {
                    writableControllerClearAlgorithms(c);
                }
                writableStreamFinishInFlightWriteWithError(stream, reason);
            }
        };
        upon(c.writeAlgorithm(chunk, c), r.ok, r.fail);
    }

    function writableControllerGetBackpressure(c) {
        return c.strategyHWM - c.queueTotalSize <= 0;
    }

    function writableControllerError(c, error) {
        writableControllerClearAlgorithms(c);
        writableStreamStartErroring(c.stream, error);
    }

    methods(WritableStreamDefaultController.prototype, {
        error: function error(e) {
            var c = slotOf(this, 'WSDC');
            if (c.stream.state !== 'writable') {
                return;
            }
            writableControllerError(c, e);
        }
    });
    getters(WritableStreamDefaultController.prototype, {
        signal: function () {
            var c = slotOf(this, 'WSDC');
            if (c.abortController === null && typeof global.AbortController === 'function') {
                c.abortController = new global.AbortController();
            }
            return c.abortController === null ? undefined : c.abortController.signal;
        }
    });
    tag(WritableStreamDefaultController.prototype, 'WritableStreamDefaultController');

    methods(WritableStream.prototype, {
        abort: function abort(reason) {
            var stream;
            try {
                stream = slotOf(this, 'WS');
            } catch (e) {
                return rejected(e);
            }
            if (stream.writer !== null) {
                return rejected(new TypeError(WLOCKED));
            }
            return writableStreamAbort(stream, reason);
        },
        close: function close() {
            var stream;
            try {
                stream = slotOf(this, 'WS');
            } catch (e) {
                return rejected(e);
            }
            if (stream.writer !== null) {
                return rejected(new TypeError(WLOCKED));
            }
            if (writableStreamCloseQueuedOrInFlight(stream)) {
                return rejected(new TypeError('This WritableStream is closed.'));
            }
            return writableStreamClose(stream);
        },
        getWriter: function getWriter() {
            return acquireDefaultWriter(slotOf(this, 'WS')).obj;
        }
    });
    getters(WritableStream.prototype, {
        locked: function () { return slotOf(this, 'WS').writer !== null; }
    });
    tag(WritableStream.prototype, 'WritableStream');

    /* ===========================================================================================================
     * TransformStream
     */

    function TransformStream(transformer, writableStrategy, readableStrategy) {
        if (!(this instanceof TransformStream)) {
            throw new TypeError("Failed to construct 'TransformStream': Please use the 'new' operator.");
        }
        if (transformer === null) {
            transformer = undefined;
        }
        var t = dictionary(transformer, 'transformer');
        writableStrategy = dictionary(writableStrategy, 'writableStrategy');
        readableStrategy = dictionary(readableStrategy, 'readableStrategy');
        if (t.readableType !== undefined) {
            throw new RangeError('Invalid readableType specified');
        }
        if (t.writableType !== undefined) {
            throw new RangeError('Invalid writableType specified');
        }
        var readableHWM = extractHWM(readableStrategy, 0);
        var readableSize = extractSize(readableStrategy);
        var writableHWM = extractHWM(writableStrategy, 1);
        var writableSize = extractSize(writableStrategy);
        var startPromise = newPromise();
        var ts = initTransformStream(this, startPromise, writableHWM, writableSize, readableHWM, readableSize, false);
        setUpTransformControllerFromTransformer(ts, t);
        var start = getMethod(t, 'start', 'transformer.start');
        if (start) {
            try {
                settle(startPromise, start.call(t, ts.controller.obj), false);
            } catch (e) {
                settle(startPromise, e, true);
            }
        } else {
            settle(startPromise, undefined, false);
        }
    }

    function initTransformStream(obj, startPromise, writableHWM, writableSize, readableHWM, readableSize, bytes) {
        var ts = setSlot(obj, {
            kind: 'TS', backpressure: undefined, backpressureChangePromise: null, controller: null,
            readable: null, writable: null, cReader: null
        });
        function startAlgorithm() {
            return startPromise;
        }
        ts.writable = createWritableStream(startAlgorithm,
            function (chunk) { return tsSinkWrite(ts, chunk); },
            function () { return tsSinkClose(ts); },
            function (reason) { return tsSinkAbort(ts, reason); },
            writableHWM, writableSize);
        var pull = function () { return tsSourcePull(ts); };
        var cancel = function (reason) { return tsSourceCancel(ts, reason); };
        if (bytes) {
            ts.readable = createByteStream(startAlgorithm, pull, cancel, readableHWM);
        } else {
            ts.readable = createReadableStream(startAlgorithm, pull, cancel, readableHWM, readableSize);
        }
        ts.readable.transformStream = ts;
        ts.backpressure = undefined;
        tsSetBackpressure(ts, true);
        ts.controller = null;
        return ts;
    }

    function tsReadableEnqueue(ts, chunk) {
        if (ts.cReader !== null) {
            tsCEnqueue(ts, chunk);
            return;
        }
        var rc = ts.readable.controller;
        if (rc.kind === 'RBSC') {
            byteControllerEnqueue(rc, chunk);
        } else {
            defaultControllerEnqueue(rc, chunk);
        }
    }

    function tsReadableCanEnqueue(ts) {
        if (ts.cReader !== null) {
            return ts.cReader.state === 'readable';
        }
        var rc = ts.readable.controller;
        if (rc.kind === 'RBSC') {
            return !rc.closeRequested && ts.readable.state === 'readable';
        }
        return defaultControllerCanCloseOrEnqueue(rc);
    }

    function tsReadableDesiredSize(ts) {
        if (ts.cReader !== null) {
            return ts.cReader.state === 'readable' ? -ts.cReader.held.size() : 0;
        }
        var rc = ts.readable.controller;
        return rc.kind === 'RBSC' ? byteControllerDesiredSize(rc) : defaultControllerDesiredSize(rc);
    }

    function tsReadableHasBackpressure(ts) {
        if (ts.cReader !== null) {
            return !ts.cReader.waiting;
        }
        var rc = ts.readable.controller;
        return rc.kind === 'RBSC' ? !byteControllerShouldCallPull(rc) : defaultControllerHasBackpressure(rc);
    }

    function tsReadableError(ts, e) {
        if (ts.cReader !== null) {
            tsCError(ts, e);
            return;
        }
        var rc = ts.readable.controller;
        if (rc.kind === 'RBSC') {
            byteControllerError(rc, e);
        } else {
            defaultControllerError(rc, e);
        }
    }

    function tsReadableClose(ts) {
        if (ts.cReader !== null) {
            tsCClose(ts);
            return;
        }
        var rc = ts.readable.controller;
        if (rc.kind === 'RBSC') {
            byteControllerClose(rc);
            if (rc.pendingPullIntos.length > 0) {
                byteControllerRespond(rc, 0);
            }
        } else {
            defaultControllerClose(rc);
        }
    }

    function tsError(ts, e) {
        tsReadableError(ts, e);
        tsErrorWritableAndUnblockWrite(ts, e);
    }

    function tsErrorWritableAndUnblockWrite(ts, e) {
        tsControllerClearAlgorithms(ts.controller);
        writableControllerErrorIfNeeded(ts.writable.controller, e);
        tsUnblockWrite(ts);
    }

    function tsUnblockWrite(ts) {
        if (ts.backpressure) {
            tsSetBackpressure(ts, false);
        }
    }

    function tsSetBackpressure(ts, backpressure) {
        if (ts.backpressureChangePromise !== null) {
            settle(ts.backpressureChangePromise, undefined, false);
        }
        ts.backpressureChangePromise = newPromise();
        ts.backpressure = backpressure;
    }

    function TransformStreamDefaultController() {
        throw new TypeError('Illegal constructor');
    }

    function setUpTransformController(ts, transformAlgorithm, flushAlgorithm, cancelAlgorithm) {
        var c = setSlot(create(TransformStreamDefaultController.prototype), {
            kind: 'TSDC', stream: ts, transformAlgorithm: transformAlgorithm, flushAlgorithm: flushAlgorithm,
            cancelAlgorithm: cancelAlgorithm, finishPromise: null, syncTransform: undefined
        });
        ts.controller = c;
        return c;
    }

    function identityTransform(chunk, c) {
        try {
            tsControllerEnqueue(c, chunk);
            return RESOLVED;
        } catch (e) {
            return rejected(e);
        }
    }

    function identityEnqueue(chunk, c) {
        tsControllerEnqueue(c, chunk);
    }

    function setUpTransformControllerFromTransformer(ts, t) {
        var transform_ = getMethod(t, 'transform', 'transformer.transform');
        var flush = getMethod(t, 'flush', 'transformer.flush');
        var cancel = getMethod(t, 'cancel', 'transformer.cancel');
        var c = setUpTransformController(ts,
            transform_ ? function (chunk, c) { return promiseCall(transform_, t, [chunk, c.obj]); } : identityTransform,
            flush ? function (c) { return promiseCall(flush, t, [c.obj]); } : resolvedUndefined,
            cancel ? function (r) { return promiseCall(cancel, t, [r]); } : resolvedUndefined);
        if (!transform_) {
            c.syncTransform = identityEnqueue;
        }
    }

    function tsControllerClearAlgorithms(c) {
        c.transformAlgorithm = undefined;
        c.syncTransform = undefined;
        c.flushAlgorithm = undefined;
        c.cancelAlgorithm = undefined;
    }

    function tsControllerEnqueue(c, chunk) {
        var ts = c.stream;
        if (!tsReadableCanEnqueue(ts)) {
            throw new TypeError('Readable side is not in a state that permits enqueue');
        }
        try {
            tsReadableEnqueue(ts, chunk);
        } catch (e) {
            tsErrorWritableAndUnblockWrite(ts, e);
            throw ts.readable.storedError;
        }
        var backpressure = tsReadableHasBackpressure(ts);
        if (backpressure !== ts.backpressure) {
            tsSetBackpressure(ts, true);
        }
    }

    function tsControllerError(c, e) {
        tsError(c.stream, e);
    }

    function tsControllerPerformTransform(c, chunk) {
        if (c.syncTransform !== undefined) {
            /* A transform that runs to completion at once (identity, the Workers and encoding classes):
             * the same outcome as the general path below without two promises and a microtask. */
            try {
                c.syncTransform(chunk, c);
                return RESOLVED;
            } catch (e) {
                tsError(c.stream, e);
                return rejected(e);
            }
        }
        return transform(c.transformAlgorithm(chunk, c), undefined, ({
            fail(r) {
                tsError(c.stream, r);
                throw r;
            }
        }).fail);
    }

    function tsControllerTerminate(c) {
        var ts = c.stream;
        if (tsReadableCanEnqueue(ts)) {
            tsReadableClose(ts);
        }
        tsErrorWritableAndUnblockWrite(ts, new TypeError('TransformStream terminated'));
    }

    function tsSinkWrite(ts, chunk) {
        var c = ts.controller;
        if (ts.backpressure) {
            return transform(ts.backpressureChangePromise, ({
                ok() {
                    var writable = ts.writable;
                    if (writable.state === 'erroring') {
                        throw writable.storedError;
                    }
                    var done = tsControllerPerformTransform(c, chunk);
                    /* A transform done at once: returning the fulfilled promise would make the derived
                     * promise adopt it (two more jobs per chunk) for the same outcome. */
                    return done === RESOLVED ? undefined : done;
                }
            }).ok);
        }
        return tsControllerPerformTransform(c, chunk);
    }

    function tsSinkAbort(ts, reason) {
        var c = ts.controller;
        if (c.finishPromise !== null) {
            return c.finishPromise;
        }
        var readable = ts.readable;
        c.finishPromise = newPromise();
        var cancelPromise = c.cancelAlgorithm(reason);
        tsControllerClearAlgorithms(c);
        upon(cancelPromise, function () {
            if (readable.state === 'errored') {
                settle(c.finishPromise, readable.storedError, true);
            } else {
                tsReadableError(ts, reason);
                settle(c.finishPromise, undefined, false);
            }
        }, function (r) {
            tsReadableError(ts, r);
            settle(c.finishPromise, r, true);
        });
        return c.finishPromise;
    }

    function tsSinkClose(ts) {
        var c = ts.controller;
        if (c.finishPromise !== null) {
            return c.finishPromise;
        }
        var readable = ts.readable;
        c.finishPromise = newPromise();
        var flushPromise = c.flushAlgorithm(c);
        tsControllerClearAlgorithms(c);
        upon(flushPromise, function () {
            if (readable.state === 'errored') {
                settle(c.finishPromise, readable.storedError, true);
            } else {
                if (tsReadableCanEnqueue(ts)) {
                    tsReadableClose(ts);
                }
                settle(c.finishPromise, undefined, false);
            }
        }, function (r) {
            tsReadableError(ts, r);
            settle(c.finishPromise, r, true);
        });
        return c.finishPromise;
    }

    function tsSourcePull(ts) {
        tsSetBackpressure(ts, false);
        return ts.backpressureChangePromise;
    }

    function tsSourceCancel(ts, reason) {
        var c = ts.controller;
        if (c.finishPromise !== null) {
            return c.finishPromise;
        }
        var writable = ts.writable;
        c.finishPromise = newPromise();
        var cancelPromise = c.cancelAlgorithm(reason);
        tsControllerClearAlgorithms(c);
        upon(cancelPromise, function () {
            if (writable.state === 'errored') {
                settle(c.finishPromise, writable.storedError, true);
            } else {
                writableControllerErrorIfNeeded(writable.controller, reason);
                tsUnblockWrite(ts);
                settle(c.finishPromise, undefined, false);
            }
        }, function (r) {
            writableControllerErrorIfNeeded(writable.controller, r);
            tsUnblockWrite(ts);
            settle(c.finishPromise, r, true);
        });
        return c.finishPromise;
    }

    methods(TransformStreamDefaultController.prototype, {
        enqueue: function enqueue(chunk) {
            tsControllerEnqueue(slotOf(this, 'TSDC'), chunk);
        },
        error: function error(reason) {
            tsControllerError(slotOf(this, 'TSDC'), reason);
        },
        terminate: function terminate() {
            tsControllerTerminate(slotOf(this, 'TSDC'));
        }
    });
    getters(TransformStreamDefaultController.prototype, {
        desiredSize: function () { return tsReadableDesiredSize(slotOf(this, 'TSDC').stream); }
    });
    tag(TransformStreamDefaultController.prototype, 'TransformStreamDefaultController');

    getters(TransformStream.prototype, {
        readable: function () { return slotOf(this, 'TS').readable.obj; },
        writable: function () { return slotOf(this, 'TS').writable.obj; }
    });
    tag(TransformStream.prototype, 'TransformStream');

    /* A TransformStream made from algorithms (the Workers and encoding classes below). transformFn(chunk, c)
     * and flushFn(c) may throw; they run synchronously. */
    function setUpSyncTransform(obj, transformFn, flushFn, bytes, writableHWM) {
        var ts = initTransformStream(obj, resolved(undefined), writableHWM === undefined ? 1 : writableHWM, one,
            0, one, bytes);
        var controller = setUpTransformController(ts,
            function (chunk, c) {
                try {
                    transformFn(chunk, c);
                    return resolved(undefined);
                } catch (e) {
                    return rejected(e);
                }
            },
            function (c) {
                try {
                    if (flushFn) {
                        flushFn(c);
                    }
                    return resolved(undefined);
                } catch (e) {
                    return rejected(e);
                }
            },
            resolvedUndefined);
        controller.syncTransform = transformFn;
        return ts;
    }

    /* ===========================================================================================================
     * Workers additions: IdentityTransformStream, FixedLengthStream
     */

    var NOT_BYTES = 'This TransformStream is being used as a byte stream, but received an object of ' +
        'non-ArrayBuffer/ArrayBufferView type on its writable side.';

    function toBytes(chunk) {
        if (chunk instanceof ArrayBuffer) {
            return new Uint8Array(chunk);
        }
        if (isView(chunk)) {
            return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        }
        throw new TypeError(NOT_BYTES);
    }

    function IdentityTransformStream(options) {
        if (!(this instanceof IdentityTransformStream)) {
            throw new TypeError("Failed to construct 'IdentityTransformStream': Please use the 'new' operator.");
        }
        options = dictionary(options, 'options');
        setUpSyncTransform(this, function (chunk, c) {
            var bytes = toBytes(chunk);
            if (bytes.byteLength > 0) {
                tsControllerEnqueue(c, bytes);
            }
        }, null, true, extractHWM(options, 1));
    }
    IdentityTransformStream.prototype = create(TransformStream.prototype);
    hide(IdentityTransformStream.prototype, 'constructor', IdentityTransformStream);
    tag(IdentityTransformStream.prototype, 'IdentityTransformStream');

    function FixedLengthStream(length, options) {
        if (!(this instanceof FixedLengthStream)) {
            throw new TypeError("Failed to construct 'FixedLengthStream': Please use the 'new' operator.");
        }
        var expected = Number(length);
        if (expected !== expected || expected < 0 || Math.floor(expected) !== expected) {
            throw new TypeError('FixedLengthStream requires a non-negative integer expected length.');
        }
        options = dictionary(options, 'options');
        var seen = 0;
        var ts = setUpSyncTransform(this, function (chunk, c) {
            var bytes = toBytes(chunk);
            if (seen + bytes.byteLength > expected) {
                throw new TypeError('Attempt to write too many bytes through a FixedLengthStream.');
            }
            seen += bytes.byteLength;
            if (bytes.byteLength > 0) {
                tsControllerEnqueue(c, bytes);
            }
        }, function () {
            if (seen < expected) {
                throw new TypeError('FixedLengthStream did not see all expected bytes before close().');
            }
        }, true, extractHWM(options, 1));
        ts.readable.expectedLength = expected;
    }
    FixedLengthStream.prototype = create(TransformStream.prototype);
    hide(FixedLengthStream.prototype, 'constructor', FixedLengthStream);
    tag(FixedLengthStream.prototype, 'FixedLengthStream');

    /* ===========================================================================================================
     * TextEncoderStream, TextDecoderStream (lib/web/encoding.c does the coding)
     */

    function TextEncoderStream() {
        if (!(this instanceof TextEncoderStream)) {
            throw new TypeError("Failed to construct 'TextEncoderStream': Please use the 'new' operator.");
        }
        var encoder = new TextEncoder();
        var pendingHigh = null; /* a lead surrogate that ended the previous chunk */
        setUpSyncTransform(this, function (chunk, c) {
            var s = String(chunk);
            if (pendingHigh !== null) {
                s = pendingHigh + s;
                pendingHigh = null;
            }
            if (s.length > 0) {
                var last = s.charCodeAt(s.length - 1);
                if (last >= 0xD800 && last <= 0xDBFF) {
                    pendingHigh = s.charAt(s.length - 1);
                    s = s.slice(0, -1);
                }
            }
            if (s.length > 0) {
                tsControllerEnqueue(c, encoder.encode(s));
            }
        }, function (c) {
            if (pendingHigh !== null) {
                tsControllerEnqueue(c, new Uint8Array([0xEF, 0xBF, 0xBD]));
            }
        }, false);
    }
    getters(TextEncoderStream.prototype, {
        encoding: function () { slotOf(this, 'TS'); return 'utf-8'; },
        readable: function () { return slotOf(this, 'TS').readable.obj; },
        writable: function () { return slotOf(this, 'TS').writable.obj; }
    });
    tag(TextEncoderStream.prototype, 'TextEncoderStream');

    function TextDecoderStream(label, options) {
        if (!(this instanceof TextDecoderStream)) {
            throw new TypeError("Failed to construct 'TextDecoderStream': Please use the 'new' operator.");
        }
        var decoder = new TextDecoder(label === undefined ? 'utf-8' : label, options);
        var streamOpt = { stream: true };
        var ts = setUpSyncTransform(this, function (chunk, c) {
            if (!(chunk instanceof ArrayBuffer) && !isView(chunk)) {
                throw new TypeError('TextDecoderStream: the chunk must be an ArrayBuffer or ArrayBufferView.');
            }
            var s = decoder.decode(chunk, streamOpt);
            if (s.length > 0) {
                tsControllerEnqueue(c, s);
            }
        }, function (c) {
            var s = decoder.decode();
            if (s.length > 0) {
                tsControllerEnqueue(c, s);
            }
        }, false);
        ts.decoder = decoder;
    }
    getters(TextDecoderStream.prototype, {
        encoding: function () { return slotOf(this, 'TS').decoder.encoding; },
        fatal: function () { return slotOf(this, 'TS').decoder.fatal; },
        ignoreBOM: function () { return slotOf(this, 'TS').decoder.ignoreBOM; },
        readable: function () { return slotOf(this, 'TS').readable.obj; },
        writable: function () { return slotOf(this, 'TS').writable.obj; }
    });
    tag(TextDecoderStream.prototype, 'TextDecoderStream');

    /* ===========================================================================================================
     * CompressionStream, DecompressionStream (zlib, through native.zlib / native.zlibPush)
     */

    function zlibFormat(format, ctorName) {
        var f = String(format);
        if (f !== 'gzip' && f !== 'deflate' && f !== 'deflate-raw') {
            throw new TypeError("Failed to construct '" + ctorName + "': Unsupported compression format: '" + f + "'");
        }
        return f;
    }

    function zlibStream(obj, format, inflate) {
        var handle = native.zlib(format, inflate);
        function emit(c, outs) {
            for (var i = 0; i < outs.length; i++) {
                tsControllerEnqueue(c, outs[i]);
            }
        }
        setUpSyncTransform(obj, function (chunk, c) {
            var bytes;
            if (chunk instanceof ArrayBuffer) {
                bytes = new Uint8Array(chunk);
            } else if (isView(chunk)) {
                bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
            } else {
                throw new TypeError('The chunk must be an ArrayBuffer or ArrayBufferView.');
            }
            emit(c, native.zlibPush(handle, bytes));
        }, function (c) {
            emit(c, native.zlibPush(handle, null));
        }, false);
    }

    function CompressionStream(format) {
        if (!(this instanceof CompressionStream)) {
            throw new TypeError("Failed to construct 'CompressionStream': Please use the 'new' operator.");
        }
        zlibStream(this, zlibFormat(format, 'CompressionStream'), false);
    }
    getters(CompressionStream.prototype, {
        readable: function () { return slotOf(this, 'TS').readable.obj; },
        writable: function () { return slotOf(this, 'TS').writable.obj; }
    });
    tag(CompressionStream.prototype, 'CompressionStream');

    function DecompressionStream(format) {
        if (!(this instanceof DecompressionStream)) {
            throw new TypeError("Failed to construct 'DecompressionStream': Please use the 'new' operator.");
        }
        zlibStream(this, zlibFormat(format, 'DecompressionStream'), true);
    }
    getters(DecompressionStream.prototype, {
        readable: function () { return slotOf(this, 'TS').readable.obj; },
        writable: function () { return slotOf(this, 'TS').writable.obj; }
    });
    tag(DecompressionStream.prototype, 'DecompressionStream');

    /* ===========================================================================================================
     * What lib/web/stream.c uses
     */

    /* A byte stream fed from C: `hooks` has pull() (called when the stream wants data; C answers later with
     * enqueue/close/error) and cancel(reason). Returns [stream object, controller record]. */
    function cSource(hooks, hwm) {
        var stream = createByteStream(noop, function () {
            hooks.pull();
            return resolved(undefined);
        }, function (reason) {
            hooks.cancel(reason);
            return resolved(undefined);
        }, hwm);
        return stream;
    }

    /* A stream of exactly these bytes (a buffered body's .body): one chunk, then closed. Made on every read
     * of .body, so built directly in the state the standard's steps would reach: a start that does nothing
     * is over before anything can observe it, the bytes are a fresh copy made by the caller (nothing to
     * transfer), and a closed source is never pulled. */
    function fromBytes(bytes) {
        var stream = newReadableStream();
        var c = setSlot(create(ReadableByteStreamController.prototype), create(byteControllerProto));
        c.kind = 'RBSC';
        c.stream = stream;
        c.pullAgain = c.pulling = false;
        c.started = true;
        c.byobRequest = null;
        resetQueue(c);
        c.strategyHWM = 0;
        c.pullAlgorithm = resolvedUndefined;
        c.cancelAlgorithm = resolvedUndefined;
        c.autoAllocateChunkSize = undefined;
        c.pendingPullIntos = [];
        stream.controller = c;
        if (bytes.byteLength > 0) {
            byteControllerEnqueueChunkToQueue(c, bytes.buffer, bytes.byteOffset, bytes.byteLength);
            c.closeRequested = true;
        } else {
            c.closeRequested = false;
            byteControllerClearAlgorithms(c);
            stream.state = 'closed';
        }
        return stream.obj;
    }

    /* The reader a claimed stream is locked to (its bytes went another way): nobody reads through it. */
    var claimedReader = { kind: 'RSDR', stream: null, closedPromise: RESOLVED, readRequests: new Queue() };

    /* A C reader on the readable side of a TransformStream whose transform is synchronous (the identity of
     * `new TransformStream()`, IdentityTransformStream, FixedLengthStream, the encoding streams): instead of
     * going through the readable side's controller, read requests and pulls (about half of the script run
     * per chunk), the transform's output goes straight to the C reader, and a C read is the pull.
     * ts.cReader: {state: 'readable'|'closed'|'errored', held: chunks no read has taken yet, waiting: a
     * read waits, id and the reader natives}. The readable side itself stays locked and disturbed. */
    function tsCEnqueue(ts, chunk) {
        var cr = ts.cReader;
        if (cr.waiting && cr.held.size() === 0) {
            cr.waiting = false;
            cr.onChunk(cr.id, chunk); /* may read again at once (an empty chunk), or cancel */
        } else {
            cr.held.push(chunk);
        }
    }

    function tsCClose(ts) {
        var cr = ts.cReader;
        if (cr.state !== 'readable') {
            return;
        }
        cr.state = 'closed';
        if (cr.waiting && cr.held.size() === 0) {
            cr.waiting = false;
            cr.onClose(cr.id);
        }
    }

    function tsCError(ts, e) {
        var cr = ts.cReader;
        if (cr.state !== 'readable') {
            return;
        }
        cr.state = 'errored';
        cr.error = e;
        cr.held = new Queue();
        if (cr.waiting) {
            cr.waiting = false;
            cr.onError(cr.id, e);
        }
    }

    function tsCRead(ts) {
        var cr = ts.cReader;
        if (cr.held.size() > 0) {
            cr.onChunk(cr.id, cr.held.shift());
        } else if (cr.state === 'closed') {
            cr.onClose(cr.id);
        } else if (cr.state === 'errored') {
            cr.onError(cr.id, cr.error);
        } else {
            cr.waiting = true;
            if (ts.backpressure) {
                tsSetBackpressure(ts, false); /* the pull: a write waiting on back-pressure goes on */
            }
        }
    }

    function tsCCancel(ts, reason) {
        var cr = ts.cReader;
        cr.waiting = false;
        cr.held = new Queue();
        if (cr.state === 'readable') {
            cr.state = 'closed';
            markHandled(tsSourceCancel(ts, reason));
        }
    }

    /* Claims the TransformStream behind the untouched readable side x for a C reader; its TransformStream
     * object, or null when there is none or its transform is not synchronous. */
    function claimTransform(x, onChunk, onClose, onError, id) {
        var stream = x[S], ts = stream.transformStream;
        if (ts === undefined || ts.cReader !== null || ts.controller === null ||
            ts.controller.syncTransform === undefined || isLocked(stream) || stream.disturbed ||
            stream.state !== 'readable') {
            return null;
        }
        var rc = stream.controller;
        if (rc.closeRequested) {
            return null;
        }
        var held = new Queue();
        while (rc.queue.size() > 0) {
            var e = rc.queue.shift();
            held.push(rc.kind === 'RBSC' ? new Uint8Array(e.buffer, e.byteOffset, e.byteLength) : e.value);
        }
        rc.queueTotalSize = 0;
        stream.reader = claimedReader;
        stream.disturbed = true;
        ts.cReader = {
            state: 'readable', held: held, waiting: false, error: undefined,
            onChunk: onChunk, onClose: onClose, onError: onError, id: id
        };
        return ts.obj;
    }

    /* C reader: a read request whose steps call the C hooks (native functions). */
    function CReadRequest(onChunk, onClose, onError, id) {
        this.onChunk = onChunk;
        this.onClose = onClose;
        this.onError = onError;
        this.id = id;
    }
    CReadRequest.prototype.chunk = function (c) { this.onChunk(this.id, c); };
    CReadRequest.prototype.close = function () { this.onClose(this.id); };
    CReadRequest.prototype.error = function (e) { this.onError(this.id, e); };

    var internal = {
        isReadableStream: function (x) { return has(x, 'RS'); },
        isLocked: function (x) { return isLocked(x[S]); },
        isDisturbed: function (x) { return x[S].disturbed; },
        /* The stream's bytes are all known now: the chunks of a closed, never-read default or byte stream. */
        acquireReader: function (x) { return acquireDefaultReader(x[S]).obj; },
        read: function (reader, onChunk, onClose, onError, id) {
            var r = reader[S];
            if (r.kind === 'TS') {
                tsCRead(r);
                return;
            }
            if (r.stream === null) {
                onError(id, new TypeError(RELEASED));
                return;
            }
            defaultReaderRead(r, new CReadRequest(onChunk, onClose, onError, id));
        },
        cancel: function (reader, reason) {
            var r = reader[S];
            if (r.kind === 'TS') {
                tsCCancel(r, reason);
                return;
            }
            if (r.stream === null) {
                return;
            }
            markHandled(readerGenericCancel(r, reason));
            defaultReaderRelease(r);
        },
        release: function (reader) {
            var r = reader[S];
            if (r.kind !== 'TS' && r.stream !== null) {
                defaultReaderRelease(r);
            }
        },
        cSource: function (hooks, hwm) {
            var s = cSource(hooks, hwm);
            return [s.obj, s.controller];
        },
        enqueue: function (c, bytes) {
            if (!c.closeRequested && c.stream.state === 'readable') {
                byteControllerEnqueue(c, bytes);
            }
        },
        close: function (c) {
            if (!c.closeRequested && c.stream.state === 'readable') {
                byteControllerClose(c);
                if (c.pendingPullIntos.length > 0) {
                    byteControllerRespond(c, 0);
                }
            }
        },
        error: function (c, e) {
            byteControllerError(c, e);
        },
        desiredSize: function (c) {
            var d = byteControllerDesiredSize(c);
            var stream = c.stream;
            if (hasDefaultReader(stream) && numReadRequests(stream) > 0) {
                return d > 0 ? d : 1;
            }
            if (hasBYOBReader(stream) && stream.reader.readIntoRequests.length > 0) {
                return d > 0 ? d : 1;
            }
            return d === null ? 0 : d;
        },
        fromBytes: fromBytes,
        /* Locks and disturbs an untouched stream (its bytes are taken another way); false if touched. */
        claim: function (x) {
            var stream = x[S];
            if (isLocked(stream) || stream.disturbed) {
                return false;
            }
            stream.reader = claimedReader;
            stream.disturbed = true;
            return true;
        },
        /* A C reader takes an untouched stream fed from C (lib/web/stream.c's C-to-C path): the stream is
         * locked and disturbed as if read, and the bytes queued so far come back (Uint8Arrays, in order) for
         * the reader to deliver first; from now on the source's bytes go straight to the reader. null if the
         * stream was touched or has ended (its bytes then go through the standard path). */
        claimTransform: claimTransform,
        claimSource: function (x) {
            var stream = x[S], c = stream.controller;
            if (isLocked(stream) || stream.disturbed || stream.state !== 'readable' || c.closeRequested) {
                return null;
            }
            var out = [];
            while (c.queue.size() > 0) {
                var e = c.queue.shift();
                out.push(new Uint8Array(e.buffer, e.byteOffset, e.byteLength));
            }
            c.queueTotalSize = 0;
            stream.reader = claimedReader;
            stream.disturbed = true;
            return out;
        },
        /* A promise of a Uint8Array of all the stream's bytes (the body mixin's "fully read"). */
        readAll: function (x) {
            var reader = acquireDefaultReader(x[S]);
            var chunks = [], total = 0, p = newPromise();
            var reading = false, again = false;
            /* Chunks already queued arrive during the read call: loop instead of nesting one call per chunk. */
            var pump = function () {
                if (reading) {
                    again = true;
                    return;
                }
                reading = true;
                do {
                    again = false;
                    defaultReaderRead(reader, req);
                } while (again);
                reading = false;
            };
            var req = {
                chunk: function (c) {
                    var bytes;
                    if (c instanceof ArrayBuffer) {
                        bytes = new Uint8Array(c);
                    } else if (isView(c)) {
                        bytes = new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
                    } else {
                        var e = new TypeError('This ReadableStream did not return bytes.');
                        markHandled(readerGenericCancel(reader, e));
                        settle(p, e, true);
                        return;
                    }
                    chunks.push(bytes);
                    total += bytes.byteLength;
                    pump();
                },
                close: function () {
                    var out = new Uint8Array(total), off = 0;
                    for (var i = 0; i < chunks.length; i++) {
                        out.set(chunks[i], off);
                        off += chunks[i].byteLength;
                    }
                    settle(p, out, false);
                },
                error: function (e) {
                    settle(p, e, true);
                }
            };
            pump();
            return p;
        },
        tee: function (x) {
            var b = readableStreamTee(x[S]);
            return [b[0].obj, b[1].obj];
        },
        expectedLength: function (x) {
            return x[S].expectedLength;
        }
    };

    return {
        classes: {
            ReadableStream: ReadableStream,
            ReadableStreamDefaultReader: ReadableStreamDefaultReader,
            ReadableStreamBYOBReader: ReadableStreamBYOBReader,
            ReadableStreamDefaultController: ReadableStreamDefaultController,
            ReadableByteStreamController: ReadableByteStreamController,
            ReadableStreamBYOBRequest: ReadableStreamBYOBRequest,
            WritableStream: WritableStream,
            WritableStreamDefaultWriter: WritableStreamDefaultWriter,
            WritableStreamDefaultController: WritableStreamDefaultController,
            TransformStream: TransformStream,
            TransformStreamDefaultController: TransformStreamDefaultController,
            ByteLengthQueuingStrategy: ByteLengthQueuingStrategy,
            CountQueuingStrategy: CountQueuingStrategy,
            IdentityTransformStream: IdentityTransformStream,
            FixedLengthStream: FixedLengthStream,
            TextEncoderStream: TextEncoderStream,
            TextDecoderStream: TextDecoderStream,
            CompressionStream: CompressionStream,
            DecompressionStream: DecompressionStream
        },
        internal: internal
    };
}
