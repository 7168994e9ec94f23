package feeds

import (
	"testing"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
)

func TestMediaKind(t *testing.T) {
	tests := []struct {
		name, body, enclosure, want string
	}{
		{"none", `<p>正文<img src="a.jpg"></p>`, "", ""},
		{"plain text", "没有标签", "", ""},
		{"video element", `<p>视频</p><video src="https://www.gov.cn/v.mp4" controls></video>`, "", model.MediaVideo},
		{"audio element", `<audio controls><source src="/a.mp3" type="audio/mpeg"></audio>`, "", model.MediaAudio},
		{"wechat voice", `<mpvoice name="title" voice_encode_fileid="x"></mpvoice>`, "", model.MediaAudio},
		{"wechat video iframe", `<iframe class="video_iframe rich_pages" data-vidtype="2" data-mpvid="wxv_1" data-src="https://mp.weixin.qq.com/mp/readtemplate?t=pages/video_player_tmpl"></iframe>`, "", model.MediaVideo},
		{"tencent video iframe", `<iframe frameborder="0" src="https://v.qq.com/txp/iframe/player.html?vid=x"></iframe>`, "", model.MediaVideo},
		{"map iframe is not media", `<iframe src="https://map.baidu.com/x"></iframe>`, "", ""},
		{"video wins over audio", `<mpvoice></mpvoice><video></video>`, "", model.MediaVideo},
		{"video enclosure", `<p>x</p>`, "video/mp4", model.MediaVideo},
		{"audio enclosure", `<p>x</p>`, "audio/mpeg", model.MediaAudio},
		{"audio body, video enclosure", `<audio></audio>`, "video/mp4", model.MediaVideo},
	}
	n := NewNormalizer()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := n.Normalize(config.Source{ID: "s"}, time.UTC, RawItem{Title: "标题", ContentHTML: tc.body, MediaType: tc.enclosure}, time.Now())
			if it.Media != tc.want {
				t.Errorf("Media = %q, want %q", it.Media, tc.want)
			}
		})
	}
}
