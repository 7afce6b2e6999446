package pipeline

import "context"

// DeleteProject deletes a project while no batch is being stored, so the
// worker never writes an event for a project that is gone, then drops the
// cached parses of its symbol sets, which nothing will ask for again.
func (w *Worker) DeleteProject(ctx context.Context, projectID int64) error {
	w.lock()
	defer w.mu.Unlock()
	sets, err := w.db.SymbolSetIDsOfProject(ctx, projectID)
	if err != nil {
		return err
	}
	if err := w.db.DeleteProject(ctx, projectID); err != nil {
		return err
	}
	for _, id := range sets {
		w.symbols.Forget(id)
	}
	return nil
}
