/* auth_adapter._jws: the common case of tokens.TokenValidator._decode in C, for the adapter's hottest path.
 *
 * Verifier.verify(token, now) answers only when the token is one the Python code accepts by its usual
 * path: a header already verified with the key (in the set the Python code fills), the signature the
 * HMAC's one base64url encoding, the payload canonical base64url of UTF-8 JSON without surrounding
 * whitespace and with at most NESTING brackets, exp (and nbf/iat if present) JSON integers within +-2**52
 * (their sums with the leeway exact in a double), sub/sid strings, roles and permissions lists or absent,
 * iss/aud as configured. It then returns what _decode returns: (Identity, not_before, expires). For anything else, every refusal included, it returns None and the
 * Python code judges the token (and names the reason): this code never refuses, it only accepts early.
 * The tests hold it to the Python code's verdict on every token they make.
 *
 * SHA-256 (FIPS 180-4) and HMAC (RFC 2104) are written out here: no Python object per step and no
 * OpenSSL provider layer. Measured inside the server (bench/bench_services.py), the Check handler costs
 * 19-21 us of CPU per new JWT with this path, 27.5-34.5 us with the Python code alone.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u,
    0x923f82a4u, 0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u,
    0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u,
    0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u,
    0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u,
    0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au,
    0x5b9cca4fu, 0x682e6ff3u, 0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u,
    0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};
static const uint32_t IV[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
compress(uint32_t h[8], const unsigned char *block)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 |
               (uint32_t)block[4 * i + 2] << 8 | (uint32_t)block[4 * i + 3];
    }
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

/* The digest of `prefix` bytes already hashed into `state` (a multiple of the block) followed by data. */
static void
finish(const uint32_t state[8], uint64_t prefix, const unsigned char *data, size_t size,
       unsigned char digest[32])
{
    uint32_t h[8];
    unsigned char last[128];
    memcpy(h, state, sizeof h);
    size_t whole = size - size % 64;
    for (size_t at = 0; at < whole; at += 64) {
        compress(h, data + at);
    }
    size_t rest = size - whole;
    size_t tail = rest < 56 ? 64 : 128;
    memset(last, 0, tail);
    memcpy(last, data + whole, rest);
    last[rest] = 0x80;
    uint64_t bits = (prefix + size) * 8;
    for (int i = 0; i < 8; i++) {
        last[tail - 1 - i] = (unsigned char)(bits >> (8 * i));
    }
    compress(h, last);
    if (tail == 128) {
        compress(h, last + 64);
    }
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(h[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(h[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(h[i] >> 8);
        digest[4 * i + 3] = (unsigned char)h[i];
    }
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 32 bytes as unpadded base64url: 43 characters. */
static void
encode_mac(const unsigned char mac[32], char out[43])
{
    int o = 0;
    for (int i = 0; i < 30; i += 3) {
        uint32_t v = (uint32_t)mac[i] << 16 | (uint32_t)mac[i + 1] << 8 | mac[i + 2];
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
        out[o++] = B64URL[(v >> 6) & 63];
        out[o++] = B64URL[v & 63];
    }
    uint32_t v = (uint32_t)mac[30] << 16 | (uint32_t)mac[31] << 8;
    out[o++] = B64URL[v >> 18];
    out[o++] = B64URL[(v >> 12) & 63];
    out[o] = B64URL[(v >> 6) & 63];
}

static int
b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Canonical unpadded base64url (no other character, unused trailing bits zero) into out; its size, or -1. */
static Py_ssize_t
decode_b64url(const char *in, Py_ssize_t size, unsigned char *out)
{
    if (size == 0 || size % 4 == 1) return -1;
    Py_ssize_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return -1; /* a non-canonical spelling: left to the Python code */
    return o;
}

typedef struct {
    PyObject_HEAD
    uint32_t inner[8]; /* SHA-256 state after the key XOR ipad block */
    uint32_t outer[8]; /* and after the key XOR opad block */
    PyObject *good_headers; /* set of header parts (bytes) verified with the key, filled by the Python code */
    PyObject *scan;         /* json's C scanner: scan_once(text, 0) -> (value, end) */
    PyTypeObject *identity; /* tokens.Identity, a tuple subclass */
    PyObject *no_names;     /* tokens._NO_NAMES */
    PyObject *issuer;       /* str or None */
    PyObject *audience;     /* str or None */
    long long leeway; /* within +-2**52, like the dates */
} Verifier;

static PyObject *S_exp, *S_nbf, *S_iat, *S_sub, *S_sid, *S_session_id, *S_roles, *S_permissions, *S_iss,
    *S_aud, *S_empty, *ZERO;

#define LIMIT 4503599627370496LL /* 2**52: a date, its sum with the leeway and `now` exact in a double */
#define NESTING 32 /* '[' and '{' in a payload: deeper JSON goes to the Python code (its recursion limit) */

/* A date claim: 1 with *out set for a JSON integer within +-2**52, 0 when absent, -1 otherwise. */
static int
date_claim(PyObject *claims, PyObject *name, long long *out)
{
    PyObject *value = PyDict_GetItemWithError(claims, name);
    if (value == NULL) return PyErr_Occurred() ? -1 : 0;
    if (!PyLong_CheckExact(value)) return -1;
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (n == -1 && PyErr_Occurred()) || n > LIMIT || n < -LIMIT) return -1;
    *out = n;
    return 1;
}

/* roles/permissions: the shared empty set when absent, the strings of a list; NULL (no error) otherwise. */
static PyObject *
names_claim(Verifier *self, PyObject *claims, PyObject *name)
{
    PyObject *value = PyDict_GetItemWithError(claims, name);
    if (value == NULL) {
        if (PyErr_Occurred()) return NULL;
        return Py_NewRef(self->no_names);
    }
    if (!PyList_CheckExact(value)) {
        /* a string is split by the Python code; any other value names nothing there either */
        return PyUnicode_Check(value) ? NULL : Py_NewRef(self->no_names);
    }
    PyObject *names = PyFrozenSet_New(NULL);
    if (names == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
        PyObject *item = PyList_GET_ITEM(value, i);
        if (PyUnicode_Check(item) && PySet_Add(names, item) < 0) {
            Py_DECREF(names);
            return NULL;
        }
    }
    return names;
}

static int
same_text(PyObject *value, PyObject *expected)
{
    return PyUnicode_CheckExact(value) && PyUnicode_Compare(value, expected) == 0;
}

/* The claims accepted as the Python code accepts them: (Identity, not_before, expires), or NULL. */
static PyObject *
accept(Verifier *self, PyObject *claims, double now)
{
    long long exp, nbf = 0, iat = 0;
    if (date_claim(claims, S_exp, &exp) != 1) return NULL;
    int has_nbf = date_claim(claims, S_nbf, &nbf);
    int has_iat = date_claim(claims, S_iat, &iat);
    if (has_nbf < 0 || has_iat < 0) return NULL;
    long long leeway = self->leeway;
    /* as Python compares an int with a float: exactly, since both sides are integers below 2**53 */
    if ((double)exp <= now - (double)leeway) return NULL;
    if ((has_nbf && (double)nbf > now + (double)leeway) || (has_iat && (double)iat > now + (double)leeway)) {
        return NULL;
    }
    if (self->issuer != Py_None) {
        PyObject *iss = PyDict_GetItemWithError(claims, S_iss);
        if (iss == NULL || !same_text(iss, self->issuer)) return NULL;
    }
    if (self->audience != Py_None) {
        PyObject *aud = PyDict_GetItemWithError(claims, S_aud);
        if (aud == NULL) return NULL;
        int found = same_text(aud, self->audience);
        if (!found && PyList_CheckExact(aud)) {
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(aud) && !found; i++) {
                found = same_text(PyList_GET_ITEM(aud, i), self->audience);
            }
        }
        if (!found) return NULL;
    }
    PyObject *subject = PyDict_GetItemWithError(claims, S_sub);
    if (subject == NULL || !PyUnicode_CheckExact(subject) || PyUnicode_GET_LENGTH(subject) == 0) return NULL;
    PyObject *session = PyDict_GetItemWithError(claims, S_sid);
    if (session == NULL) {
        if (PyErr_Occurred()) return NULL;
        session = PyDict_GetItemWithError(claims, S_session_id);
        if (session == NULL) {
            if (PyErr_Occurred()) return NULL;
            session = S_empty;
        }
    }
    if (!PyUnicode_CheckExact(session)) return NULL;
    PyObject *roles = names_claim(self, claims, S_roles);
    if (roles == NULL) return NULL;
    PyObject *permissions = names_claim(self, claims, S_permissions);
    if (permissions == NULL) {
        Py_DECREF(roles);
        return NULL;
    }
    PyObject *identity = self->identity->tp_alloc(self->identity, 4);
    if (identity == NULL) {
        Py_DECREF(roles);
        Py_DECREF(permissions);
        return NULL;
    }
    PyTuple_SET_ITEM(identity, 0, Py_NewRef(subject));
    PyTuple_SET_ITEM(identity, 1, Py_NewRef(session));
    PyTuple_SET_ITEM(identity, 2, roles);
    PyTuple_SET_ITEM(identity, 3, permissions);
    /* The window as Python gives it: ints, and -inf (a float) without nbf and iat. */
    PyObject *start = has_nbf || has_iat
                          ? PyLong_FromLongLong((has_nbf && (!has_iat || nbf >= iat) ? nbf : iat) - leeway)
                          : PyFloat_FromDouble(-Py_HUGE_VAL);
    PyObject *end = PyLong_FromLongLong(exp + leeway);
    PyObject *window = start && end ? PyTuple_New(3) : NULL;
    if (window == NULL) {
        Py_DECREF(identity);
        Py_XDECREF(start);
        Py_XDECREF(end);
        return NULL;
    }
    PyTuple_SET_ITEM(window, 0, identity);
    PyTuple_SET_ITEM(window, 1, start);
    PyTuple_SET_ITEM(window, 2, end);
    return window;
}

#define STACK 2048

static PyObject *
Verifier_verify(Verifier *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "verify(token: str, now: float)");
        return NULL;
    }
    double now = PyFloat_AsDouble(args[1]);
    if (now == -1.0 && PyErr_Occurred()) return NULL;
    PyObject *token = args[0];
#if PY_VERSION_HEX < 0x030C0000 /* every str is ready from 3.12 on (the macro is deprecated there) */
    if (PyUnicode_READY(token) < 0) return NULL;
#endif
    if (self->good_headers == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Verifier.__init__ was not called");
        return NULL;
    }
    if (!PyUnicode_IS_ASCII(token)) Py_RETURN_NONE;
    Py_ssize_t size = PyUnicode_GET_LENGTH(token);
    const char *text = (const char *)PyUnicode_DATA(token);
    const char *first = memchr(text, '.', (size_t)size);
    if (first == NULL) Py_RETURN_NONE;
    const char *second = memchr(first + 1, '.', (size_t)(text + size - first - 1));
    if (second == NULL || memchr(second + 1, '.', (size_t)(text + size - second - 1)) != NULL) Py_RETURN_NONE;
    Py_ssize_t signed_size = second - text;
    if (size - signed_size - 1 != 43) Py_RETURN_NONE;

    PyObject *header = PyBytes_FromStringAndSize(text, first - text);
    if (header == NULL) return NULL;
    int known = PySet_Contains(self->good_headers, header);
    Py_DECREF(header);
    if (known < 0) return NULL;
    if (!known) Py_RETURN_NONE;

    unsigned char mac[32];
    char expected[43];
    finish(self->inner, 64, (const unsigned char *)text, (size_t)signed_size, mac);
    finish(self->outer, 64, mac, 32, mac);
    encode_mac(mac, expected);
    unsigned char differ = 0;
    for (int i = 0; i < 43; i++) {
        differ |= (unsigned char)(expected[i] ^ second[1 + i]);
    }
    if (differ) Py_RETURN_NONE;

    const char *payload = first + 1;
    Py_ssize_t payload_size = second - payload;
    unsigned char stack[STACK];
    unsigned char *decoded = stack;
    if (payload_size / 4 * 3 + 3 > STACK) {
        decoded = PyMem_Malloc((size_t)(payload_size / 4 * 3 + 3));
        if (decoded == NULL) return PyErr_NoMemory();
    }
    Py_ssize_t decoded_size = decode_b64url(payload, payload_size, decoded);
    int marks = 0; /* brackets, in strings too: more only defers */
    for (Py_ssize_t i = 0; i < decoded_size && marks <= NESTING; i++) {
        marks += decoded[i] == '[' || decoded[i] == '{';
    }
    if (marks > NESTING) decoded_size = -1;
    PyObject *json = NULL;
    if (decoded_size > 0) {
        json = PyUnicode_DecodeUTF8((const char *)decoded, decoded_size, NULL);
        if (json == NULL) PyErr_Clear(); /* not UTF-8: the Python code refuses it */
    }
    if (decoded != stack) PyMem_Free(decoded);
    if (json == NULL) Py_RETURN_NONE;

    PyObject *scan_args[2] = {json, ZERO};
    PyObject *scanned = PyObject_Vectorcall(self->scan, scan_args, 2, NULL);
    PyObject *result = NULL;
    if (scanned == NULL) {
        PyErr_Clear(); /* StopIteration, ValueError, RecursionError: the Python code judges */
    }
    else {
        if (PyTuple_CheckExact(scanned) && PyTuple_GET_SIZE(scanned) == 2 &&
            PyDict_CheckExact(PyTuple_GET_ITEM(scanned, 0)) &&
            PyLong_CheckExact(PyTuple_GET_ITEM(scanned, 1)) &&
            PyLong_AsSsize_t(PyTuple_GET_ITEM(scanned, 1)) == PyUnicode_GET_LENGTH(json)) {
            result = accept(self, PyTuple_GET_ITEM(scanned, 0), now);
        }
        Py_DECREF(scanned);
    }
    Py_DECREF(json);
    if (result == NULL) {
        if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_MemoryError)) PyErr_Clear();
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    return result;
}

static int
Verifier_init(Verifier *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"key", "good_headers", "scan", "identity", "no_names", "leeway", "issuer",
                            "audience", NULL};
    Py_buffer key;
    PyObject *good_headers, *scan, *identity, *no_names, *issuer, *audience;
    long long leeway;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*O!OO!O!LOO:Verifier", names, &key, &PySet_Type,
                                     &good_headers, &scan, &PyType_Type, &identity, &PyFrozenSet_Type,
                                     &no_names, &leeway, &issuer, &audience)) {
        return -1;
    }
    if (!PyType_IsSubtype((PyTypeObject *)identity, &PyTuple_Type) ||
        (issuer != Py_None && !PyUnicode_CheckExact(issuer)) ||
        (audience != Py_None && !PyUnicode_CheckExact(audience)) || !PyCallable_Check(scan) ||
        leeway > LIMIT || leeway < -LIMIT) {
        PyBuffer_Release(&key);
        PyErr_SetString(PyExc_TypeError,
                        "Verifier: a tuple type, str or None issuer/audience, a scanner, leeway within 2**52");
        return -1;
    }
    unsigned char block[64] = {0};
    if (key.len > 64) {
        finish(IV, 0, key.buf, (size_t)key.len, block);
    }
    else {
        memcpy(block, key.buf, (size_t)key.len);
    }
    PyBuffer_Release(&key);
    unsigned char pad[64];
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    memcpy(self->inner, IV, sizeof self->inner);
    compress(self->inner, pad);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    memcpy(self->outer, IV, sizeof self->outer);
    compress(self->outer, pad);
    Py_XSETREF(self->good_headers, Py_NewRef(good_headers));
    Py_XSETREF(self->scan, Py_NewRef(scan));
    Py_XSETREF(self->identity, (PyTypeObject *)Py_NewRef(identity));
    Py_XSETREF(self->no_names, Py_NewRef(no_names));
    Py_XSETREF(self->issuer, Py_NewRef(issuer));
    Py_XSETREF(self->audience, Py_NewRef(audience));
    self->leeway = leeway;
    return 0;
}

static int
Verifier_traverse(Verifier *self, visitproc visit, void *arg)
{
    Py_VISIT(self->good_headers);
    Py_VISIT(self->scan);
    Py_VISIT(self->identity);
    Py_VISIT(self->no_names);
    return 0;
}

static int
Verifier_clear(Verifier *self)
{
    Py_CLEAR(self->good_headers);
    Py_CLEAR(self->scan);
    Py_CLEAR(self->identity);
    Py_CLEAR(self->no_names);
    Py_CLEAR(self->issuer);
    Py_CLEAR(self->audience);
    return 0;
}

static void
Verifier_dealloc(Verifier *self)
{
    PyObject_GC_UnTrack(self);
    Verifier_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Verifier_methods[] = {
    {"verify", (PyCFunction)(void (*)(void))Verifier_verify, METH_FASTCALL,
     "verify(token, now) -> (Identity, not_before, expires) for a token accepted early, else None."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject VerifierType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "auth_adapter._jws.Verifier",
    .tp_basicsize = sizeof(Verifier),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "HS256 JWS verification of the common case; None leaves a token to the Python code.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Verifier_init,
    .tp_traverse = (traverseproc)Verifier_traverse,
    .tp_clear = (inquiry)Verifier_clear,
    .tp_dealloc = (destructor)Verifier_dealloc,
    .tp_methods = Verifier_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "auth_adapter._jws", .m_doc = "HS256 JWS verification, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__jws(void)
{
    struct { PyObject **slot; const char *text; } strings[] = {
        {&S_exp, "exp"}, {&S_nbf, "nbf"}, {&S_iat, "iat"}, {&S_sub, "sub"}, {&S_sid, "sid"},
        {&S_session_id, "session_id"}, {&S_roles, "roles"}, {&S_permissions, "permissions"},
        {&S_iss, "iss"}, {&S_aud, "aud"}, {&S_empty, ""},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        if (*strings[i].slot == NULL && (*strings[i].slot = PyUnicode_InternFromString(strings[i].text)) == NULL) {
            return NULL;
        }
    }
    if (ZERO == NULL && (ZERO = PyLong_FromLong(0)) == NULL) return NULL;
    if (PyType_Ready(&VerifierType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Verifier", (PyObject *)&VerifierType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
