package momentoauth

/*
#include <stdlib.h>
#include <stdint.h>
#include <momento/auth.h>

void momento_go_log_cb(int32_t level, const char *message, void *user_data);
void momento_go_log_destroy(void *user_data);
*/
import "C"

import (
	"context"
	"log/slog"
	"runtime/cgo"
	"time"
	"unsafe"
)

// The library's levels as slog levels.
var logLevels = [...]struct {
	c C.int32_t
	s slog.Level
}{
	{C.MOMENTO_LOG_DEBUG, slog.LevelDebug},
	{C.MOMENTO_LOG_INFO, slog.LevelInfo},
	{C.MOMENTO_LOG_WARN, slog.LevelWarn},
	{C.MOMENTO_LOG_ERROR, slog.LevelError},
}

// SetLogHandler sends the library's log messages to h as slog records (the library never prints
// and never puts a secret in a message). The library is asked only for the levels h enables
// when it is installed. Messages arrive on the goroutine making a library call or on a library
// thread, so h must be safe for concurrent use and quick: it holds up that thread. h replaces
// any previous handler (nil removes it); when SetLogHandler returns, the previous one is not
// running and is not called again. Calling it from inside a handler fails with
// ErrFailedPrecondition. SetLogHandler(slog.Default().Handler()) logs where the program does.
func SetLogHandler(h slog.Handler) error {
	if abiErr != nil {
		return abiErr
	}
	var e *C.momento_error_t
	for _, l := range logLevels {
		if h == nil || !h.Enabled(context.Background(), l.s) {
			continue
		}
		ud := C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
		handle := cgo.NewHandle(h)
		*(*C.uintptr_t)(ud) = C.uintptr_t(handle)
		err := check(C.momento_log_set_callback(l.c, C.momento_log_fn(C.momento_go_log_cb), ud,
			C.momento_destroy_fn(C.momento_go_log_destroy), &e), e)
		if err != nil { // the library did not take user_data
			handle.Delete()
			C.free(ud)
		}
		return err
	}
	return check(C.momento_log_set_callback(C.MOMENTO_LOG_DEBUG, nil, nil, nil, &e), e)
}

//export goLogMessage
func goLogMessage(level C.int32_t, message *C.char, userData unsafe.Pointer) {
	h := handleOf(userData).Value().(slog.Handler)
	lvl := slog.LevelError
	for _, l := range logLevels {
		if l.c == level {
			lvl = l.s
		}
	}
	ctx := context.Background()
	if h.Enabled(ctx, lvl) {
		_ = h.Handle(ctx, slog.NewRecord(time.Now(), lvl, C.GoString(message), 0))
	}
}

//export goLogDestroy
func goLogDestroy(userData unsafe.Pointer) {
	handleOf(userData).Delete()
	C.free(userData)
}
