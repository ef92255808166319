package main

import "testing"

// TestSocketCheck: the check of -fault runs finds every kind of loss it
// names, and nothing in a socket that got every row once and in order.
func TestSocketCheck(t *testing.T) {
	owed := []int64{3, 5, 8, 9}
	tests := []struct {
		name string
		got  []int64
		want socketCheck
	}{
		{"every row once, in order", []int64{3, 5, 8, 9}, socketCheck{}},
		{"a row missing", []int64{3, 8, 9}, socketCheck{Missing: 1}},
		{"nothing received", nil, socketCheck{Missing: 4}},
		{"a row twice in a row", []int64{3, 5, 5, 8, 9}, socketCheck{Duplicated: 1}},
		{"a row again after newer ones", []int64{3, 5, 8, 5, 9}, socketCheck{Duplicated: 1}},
		{"two rows swapped", []int64{3, 8, 5, 9}, socketCheck{OutOfOrder: 1}},
		{"another user's row", []int64{3, 4, 5, 8, 9}, socketCheck{Foreign: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c socketCheck
			c.add(tt.got, owed)
			tt.want.Sockets, tt.want.Owed, tt.want.Received = 1, int64(len(owed)), int64(len(tt.got))
			if c != tt.want {
				t.Errorf("check = %+v, want %+v", c, tt.want)
			}
			if c.ok() != (tt.name == "every row once, in order") {
				t.Errorf("ok() = %v for %s", c.ok(), tt.name)
			}
		})
	}
}
