package symbols

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A bulk upload is two requests: the files arrive and the pairing is shown,
// then the person confirms. Between the two the files wait in a directory
// named by an unguessable batch token (re-submitting them in a hidden form
// would send up to hundreds of MiB through the browser twice); directories
// older than BatchLifetime are removed at the next upload.
const (
	BatchLifetime = time.Hour
	// BatchMaxFiles caps the files of one bulk upload.
	BatchMaxFiles  = 500
	batchDirPrefix = "stacklens-bulk-"
)

// ErrBatchGone is returned for a batch that expired, was confirmed already,
// or belongs to someone else.
var ErrBatchGone = errors.New("bulk upload batch is gone")

var batchToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// BatchOwner is whose a batch is: only they may confirm it.
type BatchOwner struct {
	ProjectID int64 `json:"project_id"`
	UserID    int64 `json:"user_id"`
}

type batchManifest struct {
	BatchOwner
	Names []string `json:"names"`
}

func (u *Uploads) batchPath(batch string) string {
	return filepath.Join(u.batchDir, batchDirPrefix+batch)
}

// KeepBatch keeps a bulk upload's files until it is confirmed or expires,
// and returns the batch token that names them.
func (u *Uploads) KeepBatch(owner BatchOwner, files []UploadFile) (string, error) {
	u.removeOldBatches()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("batch token: %w", err)
	}
	batch := base64.RawURLEncoding.EncodeToString(b)
	dir := u.batchPath(batch)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("keep uploaded files: %w", err)
	}
	m := batchManifest{BatchOwner: owner}
	for i, f := range files {
		m.Names = append(m.Names, f.Name)
		if err := os.WriteFile(filepath.Join(dir, strconv.Itoa(i)), f.Data, 0o600); err != nil {
			return "", fmt.Errorf("keep uploaded file %s: %w", f.Name, err)
		}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("keep uploaded files: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mb, 0o600); err != nil {
		return "", fmt.Errorf("keep uploaded files: %w", err)
	}
	return batch, nil
}

// LoadBatch returns the files of a batch kept for owner; ErrBatchGone when
// there is no such batch for them.
func (u *Uploads) LoadBatch(batch string, owner BatchOwner) ([]UploadFile, error) {
	if !batchToken.MatchString(batch) {
		return nil, ErrBatchGone
	}
	dir := u.batchPath(batch)
	info, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrBatchGone
	}
	if err != nil {
		return nil, fmt.Errorf("load uploaded files: %w", err)
	}
	if u.now().Sub(info.ModTime()) > BatchLifetime {
		_ = os.RemoveAll(dir)
		return nil, ErrBatchGone
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, ErrBatchGone // still being written, or removed meanwhile
	}
	var m batchManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("load uploaded files: %w", err)
	}
	if m.BatchOwner != owner {
		return nil, ErrBatchGone
	}
	files := make([]UploadFile, 0, len(m.Names))
	for i, name := range m.Names {
		data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return nil, fmt.Errorf("load uploaded file %s: %w", name, err)
		}
		files = append(files, UploadFile{Name: name, Data: data})
	}
	return files, nil
}

// DropBatch removes a batch's files once they are stored.
func (u *Uploads) DropBatch(batch string) {
	if batchToken.MatchString(batch) {
		_ = os.RemoveAll(u.batchPath(batch))
	}
}

// removeOldBatches deletes batch directories nobody confirmed in time.
func (u *Uploads) removeOldBatches() {
	entries, err := os.ReadDir(u.batchDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), batchDirPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && u.now().Sub(info.ModTime()) > BatchLifetime {
			_ = os.RemoveAll(filepath.Join(u.batchDir, e.Name()))
		}
	}
}
