package api

import (
	"io"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzhttp/writer"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// compressJSON compresses h's JSON answers of more than a few kilobytes
// for clients that accept it (zstd, else gzip, each at its fastest): a
// 5,000-member room's member list is about 1 MB of JSON, and a tenth of
// it compressed. Only JSON: the event stream, files and the web app's
// files are sent as they are. The web app's session cookie is
// SameSite=Strict, so another site cannot make a browser send requests
// that would let it learn a secret from the compressed sizes (BREACH).
//
// Neither compressor keeps state per answer. gzhttp's own writers do
// (820 KB for gzip at BestSpeed, 380 KB for zstd), pooled in a
// sync.Pool that each garbage collection empties, and a node near its
// memory limit collects several times a second: reading rooms' newest
// messages, a partnered node allocated 2.6–2.9 GB of gzip writers in 6
// minutes (docs/PERFORMANCE.md, "Answers compressed without a pooled
// writer"). Gzip's stateless writer allocates about 8 KB an answer and
// makes answers as small, with as much CPU on answers of a few KB and a
// quarter more on a 1 MB member list. Zstd answers share one encoder
// (wholeZstd).
func compressJSON(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(4<<10), gzhttp.CompressionLevel(gzip.StatelessCompression),
		gzhttp.ZstdImplementation(wholeZstdFactory()), gzhttp.ContentTypes([]string{"application/json"}))
	if err != nil {
		panic(err) // the options are constants
	}
	compressed := wrap(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/events" {
			// The live stream flushes its headers before any event, which
			// the wrapper would hold back until it knew the body's size.
			h.ServeHTTP(w, r)
			return
		}
		compressed.ServeHTTP(w, r)
	})
}

// wholeZstdFactory makes the zstd writers of compressJSON, all sharing
// one encoder at zstd's fastest level with a 128 KB window (gzhttp's own
// settings). The encoder keeps two compressors, allocated once, and
// compresses up to two answers at a time; more wait for one. An answer
// costs a copy of itself, held until it is compressed, and the frame.
func wholeZstdFactory() writer.ZstdWriterFactory {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(128<<10))
	if err != nil {
		panic(err) // the options are constants
	}
	return writer.ZstdWriterFactory{
		Levels: func() (int, int) { return int(zstd.SpeedFastest), int(zstd.SpeedFastest) },
		New:    func(w io.Writer, _ int) writer.ZstdWriter { return &wholeZstd{enc: enc, w: w} },
	}
}

// wholeZstd gathers what it is given and writes it to w as one zstd
// frame at each Flush and at Close; a zstd stream may hold several
// frames, one after the other.
type wholeZstd struct {
	enc *zstd.Encoder
	w   io.Writer
	buf []byte
}

func (z *wholeZstd) Write(p []byte) (int, error) {
	z.buf = append(z.buf, p...)
	return len(p), nil
}

func (z *wholeZstd) Flush() error {
	if len(z.buf) == 0 {
		return nil
	}
	frame := z.enc.EncodeAll(z.buf, nil)
	z.buf = z.buf[:0]
	_, err := z.w.Write(frame)
	return err
}

func (z *wholeZstd) Close() error { return z.Flush() }
