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
// gzhttp's own writers hold state (820 KB for gzip at BestSpeed, 400 KB
// for zstd), pooled in a sync.Pool that each garbage collection empties,
// and a node near its memory limit collects several times a second:
// reading rooms' newest messages, a partnered node allocated 2.6–2.9 GB
// of gzip writers in 6 minutes (docs/PERFORMANCE.md, "Answers compressed
// without a pooled writer"). Gzip's stateless writer allocates a few KB
// an answer and makes answers as small, with as much CPU on answers of a
// few KB and half as much again on an 800 KB member list
// (BenchmarkCompressAnswer). Zstd writers are kept
// in a channel instead (keptZstdWriters).
func compressJSON(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(4<<10), gzhttp.CompressionLevel(gzip.StatelessCompression),
		gzhttp.ZstdImplementation(keptZstdWriters()), gzhttp.ContentTypes([]string{"application/json"}))
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

// keptZstdWriters makes the zstd writers of compressJSON, at zstd's
// fastest level with a 128 KB window (gzhttp's own settings). It keeps up
// to keptZstd writers for the next answers, in a channel, where gzhttp
// keeps them in a sync.Pool that each garbage collection empties: a new
// writer allocates 400 KB before it compresses anything, and one kept
// nothing (BenchmarkCompressAnswer). More answers at a time than that
// make writers of their own, dropped after.
func keptZstdWriters() writer.ZstdWriterFactory {
	kept := make(chan *zstd.Encoder, keptZstd)
	return writer.ZstdWriterFactory{
		Levels: func() (int, int) { return int(zstd.SpeedFastest), int(zstd.SpeedFastest) },
		New: func(w io.Writer, _ int) writer.ZstdWriter {
			select {
			case enc := <-kept:
				enc.Reset(w)
				return &keptZstdWriter{Encoder: enc, kept: kept}
			default:
			}
			enc, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
				zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(128<<10))
			if err != nil {
				panic(err) // the options are constants
			}
			return &keptZstdWriter{Encoder: enc, kept: kept}
		},
	}
}

// keptZstd is how many zstd writers compressJSON keeps: one per core of
// this machine kind.
const keptZstd = 2

// keptZstdWriter is a zstd writer that goes back to kept once closed.
type keptZstdWriter struct {
	*zstd.Encoder
	kept chan *zstd.Encoder
}

func (z *keptZstdWriter) Close() error {
	if z.Encoder == nil {
		return nil
	}
	err := z.Encoder.Close()
	z.Encoder.Reset(nil)
	select {
	case z.kept <- z.Encoder:
	default:
	}
	z.Encoder = nil
	return err
}
