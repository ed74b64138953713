package main

import (
	"bufio"
	"strconv"
)

// jsonWriter writes JSON exactly as iproute2's json_writer.c does, so -j
// output is byte-identical: compact, or with -p the same indentation
// (four spaces per level, "},{" between objects, "[ " and " ]"), and a
// newline after the outer array. Strings are escaped as ip 6.1 escapes
// them: \t \n \r \f \b \\ \" only; other bytes are written as they are.
type jsonWriter struct {
	w      *bufio.Writer
	pretty bool
	depth  int
	sep    byte // ',' once a value was written at this level, else 0
}

func (j *jsonWriter) eol() {
	if !j.pretty {
		return
	}
	j.w.WriteByte('\n')
	for range j.depth {
		j.w.WriteString("    ")
	}
}

func (j *jsonWriter) eor() {
	if j.sep != 0 {
		j.w.WriteByte(j.sep)
	}
	j.sep = ','
}

func (j *jsonWriter) begin(c byte) {
	j.eor()
	j.w.WriteByte(c)
	j.depth++
	j.sep = 0
}

func (j *jsonWriter) end(c byte) {
	j.depth--
	if j.sep != 0 {
		j.eol()
	}
	j.w.WriteByte(c)
	j.sep = ','
}

func (j *jsonWriter) startArray() {
	j.begin('[')
	if j.pretty {
		j.w.WriteByte(' ')
	}
}

// endArray closes the outer array and ends the output, as
// delete_json_obj does.
func (j *jsonWriter) endArray() {
	if j.pretty && j.sep != 0 {
		j.w.WriteByte(' ')
	}
	j.sep = 0
	j.end(']')
	j.w.WriteByte('\n')
}

func (j *jsonWriter) startObject() { j.begin('{') }
func (j *jsonWriter) endObject()   { j.end('}') }

func (j *jsonWriter) name(key string) {
	j.eor()
	j.eol()
	j.sep = 0
	j.quote(key)
	j.w.WriteByte(':')
	if j.pretty {
		j.w.WriteByte(' ')
	}
}

func (j *jsonWriter) stringField(key, val string) {
	j.name(key)
	j.eor()
	j.quote(val)
}

func (j *jsonWriter) intField(key string, val int) {
	j.name(key)
	j.eor()
	j.w.WriteString(strconv.Itoa(val))
}

func (j *jsonWriter) quote(s string) {
	j.w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\t':
			j.w.WriteString(`\t`)
		case '\n':
			j.w.WriteString(`\n`)
		case '\r':
			j.w.WriteString(`\r`)
		case '\f':
			j.w.WriteString(`\f`)
		case '\b':
			j.w.WriteString(`\b`)
		case '\\':
			j.w.WriteString(`\\`)
		case '"':
			j.w.WriteString(`\"`)
		default:
			j.w.WriteByte(c)
		}
	}
	j.w.WriteByte('"')
}
