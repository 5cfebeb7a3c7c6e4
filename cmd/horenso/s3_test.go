package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
)

// TestS3Flags: the S3 flags make the node's blob configuration, with
// the credentials from the environment or a file, never from a flag.
func TestS3Flags(t *testing.T) {
	creds := filepath.Join(t.TempDir(), "s3.env")
	if err := os.WriteFile(creds, []byte("# keys\nexport AWS_ACCESS_KEY_ID=file-key\nAWS_SECRET_ACCESS_KEY=\"file secret\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantS3     bool
		wantKey    string
		wantSecret string
		wantErr    bool
	}{
		{name: "none", args: nil},
		{name: "env", args: []string{"--s3-endpoint", "http://127.0.0.1:9000", "--s3-bucket", "b", "--s3-path-style"},
			env: map[string]string{"AWS_ACCESS_KEY_ID": "env-key", "AWS_SECRET_ACCESS_KEY": "env-secret"}, wantS3: true,
			wantKey: "env-key", wantSecret: "env-secret"},
		{name: "file over env", args: []string{"--s3-endpoint", "http://127.0.0.1:9000", "--s3-bucket", "b", "--s3-credentials-file", creds},
			env: map[string]string{"AWS_ACCESS_KEY_ID": "env-key", "AWS_SECRET_ACCESS_KEY": "env-secret"}, wantS3: true,
			wantKey: "file-key", wantSecret: "file secret"},
		{name: "no credentials", args: []string{"--s3-endpoint", "http://127.0.0.1:9000", "--s3-bucket", "b"}, wantErr: true},
		{name: "bucket without endpoint", args: []string{"--s3-bucket", "b"}, wantErr: true},
		{name: "missing file", args: []string{"--s3-endpoint", "http://x", "--s3-credentials-file", creds + ".absent"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
				t.Setenv(k, tt.env[k])
			}
			var f s3Flags
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			f.register(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.config()
			if (err != nil) != tt.wantErr {
				t.Fatalf("config: %v, want error %t", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if (cfg.S3 != nil) != tt.wantS3 {
				t.Fatalf("S3 config %+v, want one: %t", cfg.S3, tt.wantS3)
			}
			if cfg.S3 != nil && (cfg.S3.AccessKey != tt.wantKey || cfg.S3.SecretKey != tt.wantSecret || cfg.S3.PartSize != 16<<20) {
				t.Fatalf("S3 config %+v, want key %q secret %q", cfg.S3, tt.wantKey, tt.wantSecret)
			}
		})
	}
}
