package notify_test

import "fmt"

type errPlain string

func (e errPlain) Error() string { return string(e) }

func fmtWrap(err error) error { return fmt.Errorf("outer: %w", err) }
