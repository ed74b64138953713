package link_test

import (
	"testing"

	"github.com/setns/setns/internal/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }
