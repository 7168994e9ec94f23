package feeds

import (
	"strings"

	"github.com/transfeed/transfeed/model"
)

// mediaOf combines the body's media with an enclosure's MIME type.
func mediaOf(bodyKind, enclosureType string) string {
	switch {
	case bodyKind == model.MediaVideo || strings.HasPrefix(enclosureType, "video/"):
		return model.MediaVideo
	case bodyKind == model.MediaAudio || strings.HasPrefix(enclosureType, "audio/"):
		return model.MediaAudio
	}
	return ""
}
