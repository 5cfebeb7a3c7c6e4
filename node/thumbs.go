package node

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/gif" // decodes GIF for image.Decode
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decodes WebP for image.Decode

	"github.com/horenso/horenso/protocol"
)

// Thumbnails. The web app shows images inline as thumbnails the node
// makes in pure Go: the image decoded (PNG, JPEG, GIF's first frame,
// WebP), scaled to fit ThumbSize on its long side, and encoded as JPEG,
// or PNG if it may have transparency. A thumbnail is made once and kept
// beside the blobs (blobs/thumbs/<hash>.<ext>), and goes with its blob.

// ThumbSize is the long side of a thumbnail, in pixels.
const ThumbSize = 320

// maxThumbPixels bounds the images the node decodes for a thumbnail: a
// small file can declare an enormous canvas.
const maxThumbPixels = 40 << 20

const thumbsDir = "thumbs"

var thumbTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// Thumbnail returns a thumbnail of image file id of a room as is a member
// of, and its media type. It fetches the file from a partner first if the
// node lacks it. ErrNotFound: no such file, or not an image the node can
// read. The caller closes the reader.
func (n *Node) Thumbnail(ctx context.Context, as protocol.Handle, room protocol.RoomID, id uint64) (io.ReadSeekCloser, string, error) {
	r, f, err := n.OpenFile(ctx, as, room, id)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	if !thumbTypes[f.Type] {
		return nil, "", problem(ErrNotFound, "no preview of this file")
	}
	base := filepath.Join(n.blobs.dir, thumbsDir, hex.EncodeToString(f.Hash))
	for _, ext := range []string{".jpg", ".png"} {
		if t, err := os.Open(base + ext); err == nil {
			return t, map[string]string{".jpg": "image/jpeg", ".png": "image/png"}[ext], nil
		}
	}
	b, typ, err := makeThumb(r)
	if err != nil {
		n.log.Debug("thumbnail", "file", id, "err", err)
		return nil, "", problem(ErrNotFound, "no preview of this file")
	}
	ext := map[string]string{"image/jpeg": ".jpg", "image/png": ".png"}[typ]
	if err := os.MkdirAll(filepath.Dir(base), 0o700); err == nil {
		// A cache: a failure to keep it costs only the next request's time.
		if err := writeFileSync(base+ext, b, 0o600); err != nil {
			n.log.Warn("keep thumbnail", "err", err)
		}
	}
	return nopCloser{bytes.NewReader(b)}, typ, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// makeThumb decodes an image and returns its thumbnail's bytes and type.
func makeThumb(r io.ReadSeeker) ([]byte, string, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, "", fmt.Errorf("decode image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxThumbPixels {
		return nil, "", fmt.Errorf("image of %dx%d pixels", cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	src, format, err := image.Decode(r)
	if err != nil {
		return nil, "", fmt.Errorf("decode image: %w", err)
	}
	w, h := cfg.Width, cfg.Height
	if w > ThumbSize || h > ThumbSize {
		if w >= h {
			w, h = ThumbSize, max(1, h*ThumbSize/w)
		} else {
			w, h = max(1, w*ThumbSize/h), ThumbSize
		}
	}
	var buf bytes.Buffer
	if format == "jpeg" {
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82})
		return buf.Bytes(), "image/jpeg", err
	}
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	err = png.Encode(&buf, dst)
	return buf.Bytes(), "image/png", err
}
