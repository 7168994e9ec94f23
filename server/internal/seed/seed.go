// Package seed fills a real store (store.Store, usually in memory) with
// realistic posts from Zhaoqing's government sources and the status rows
// /status shows, for the server's tests and the development server
// (server/internal/devserver). It writes only through the store's own API,
// so what the server reads is what the daemon would have stored.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/transfeed/transfeed/config"
	"github.com/transfeed/transfeed/model"
	"github.com/transfeed/transfeed/store"
)

// HostileID is the id of the seeded post whose source text tries script
// injection; nothing of it may survive into a feed or page.
const HostileID = 6

// XuID is the id of the seeded post 许晓雄率队赴深圳开展招商考察活动,
// published 2023-05-25T15:31:00Z (2023-05-25 23:31 CST).
const XuID = 1

// Channel is the Telegram channel every seeded ready post is routed to.
const Channel = "@zhaoqing_en"

// ZhaoqingConfig is a configuration with the sources and feeds of the seed.
func ZhaoqingConfig(baseURL string) *config.Config {
	return &config.Config{
		Server: config.ServerConfig{Listen: "127.0.0.1:8080", BaseURL: baseURL, Title: "Zhaoqing in English"},
		Translation: config.TranslationConfig{
			Provider: "deepl", DailyCharLimit: 200000, OnFailure: model.OnFailureOriginal,
		},
		Sources: []config.Source{
			{ID: "zhaoqing-news", Name: "Zhaoqing Government — News", URL: "http://www.zhaoqing.gov.cn/xwzx/zqyw/rss.xml", Tags: []string{"zhaoqing"}},
			{ID: "zhaoqing-wechat", Name: "Zhaoqing Release (WeChat)", URL: "http://rsshub.example/wechat/mp/zhaoqingfabu", Tags: []string{"zhaoqing"}},
			{ID: "gd-english", Name: "Guangdong Government (English)", URL: "http://www.gd.gov.cn/gdywdt/rss.xml"},
		},
		Feeds: []config.Feed{
			{ID: "zhaoqing", Title: "Zhaoqing News in English", Tags: []string{"zhaoqing"}, Limit: 50},
			{ID: "zhaoqing-bilingual", Title: "Zhaoqing News (bilingual)", Sources: []string{"zhaoqing-news"}, Limit: 50, Bilingual: true},
			{ID: "guangdong", Title: "Guangdong and Zhaoqing", Sources: []string{"gd-english", "zhaoqing-news"}},
		},
		Telegram: config.TelegramConfig{Channels: []config.Channel{
			{Chat: "@zhaoqing_en", Tags: []string{"zhaoqing"}},
			{Chat: "-1001234567890", Thread: 7, Sources: []string{"gd-english"}},
		}},
	}
}

// ready marks a seeded post as translated by by ("" for none).
func ready(it model.Item, by string) model.Item {
	it.State = model.StateReady
	it.TranslatedBy = by
	return it
}

// Zhaoqing stores, in a new store, posts from Zhaoqing's government
// sources (translated, untranslated, English, hostile, and one not yet
// translated, ids 1–7 in that order), and status rows for /status:
// polls, usage, deliveries (2 pending, 3 sent, 1 failed on Channel) and a
// rate-limited channel. now anchors the status.
func Zhaoqing(ctx context.Context, st *store.Store, now time.Time) error {
	d := func(v string) time.Time {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			panic(err) // constant input
		}
		return t
	}
	cfg := ZhaoqingConfig("http://localhost")
	ids := map[string]string{}
	for _, src := range cfg.Sources {
		ids[src.ID] = src.URL
	}
	if err := st.SyncSources(ctx, ids); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	posts := []model.Item{
		ready(model.Item{
			ID: XuID, SourceID: "zhaoqing-news", Key: "post_2869421",
			GUID:     "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html",
			Link:     "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869421.html",
			Title:    "许晓雄率队赴深圳开展招商考察活动",
			Summary:  "5月25日，市委书记许晓雄率队赴深圳开展招商考察活动，与企业负责人座谈交流，推动项目加快落地肇庆。",
			Author:   "肇庆市人民政府网",
			Language: "zh", Published: d("2023-05-25T15:31:00Z"), Categories: []string{"肇庆要闻"},
			ContentHTML: `<p>5月25日，市委书记许晓雄率队赴深圳开展招商考察活动，与企业负责人座谈交流，推动项目加快落地肇庆。</p>` +
				`<p>许晓雄介绍了肇庆的区位优势、产业基础和营商环境，表示肇庆将全力为企业提供优质服务。</p>` +
				`<p><img src="https://mmbiz.qpic.cn/mmbiz_jpg/zhaoqing/0?wx_fmt=jpeg" alt="考察现场"></p>` +
				`<p>市领导张爱军、市政府秘书长参加活动。</p>`,
			TitleEN:   "Xu Xiaoxiong led a team to Shenzhen to carry out investment promotion and inspection activities",
			SummaryEN: "On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen for investment promotion, meeting business leaders to speed up projects landing in Zhaoqing.",
			ContentHTMLEN: `<p>On May 25, Xu Xiaoxiong, Secretary of the Municipal Party Committee, led a team to Shenzhen to carry out investment promotion and inspection activities, holding talks with business leaders to push projects to land in Zhaoqing sooner.</p>` +
				`<p>Xu Xiaoxiong introduced Zhaoqing's location advantages, industrial base and business environment, and said Zhaoqing would do its utmost to provide enterprises with high-quality services.</p>` +
				`<p><img src="https://mmbiz.qpic.cn/mmbiz_jpg/zhaoqing/0?wx_fmt=jpeg" alt="On-site inspection"></p>` +
				`<p>City leaders Zhang Aijun and the Secretary-General of the Municipal Government took part.</p>`,
		}, "deepl"),
		ready(model.Item{
			ID: 2, SourceID: "zhaoqing-news", Key: "post_2869502",
			Link:     "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2869502.html",
			Title:    "我市召开粤港澳大湾区建设工作推进会",
			Summary:  "5月26日上午，我市召开粤港澳大湾区建设工作推进会。",
			Language: "zh", Published: d("2023-05-26T02:10:00Z"),
			ContentHTML:   `<p>5月26日上午，我市召开粤港澳大湾区建设工作推进会，总结前一阶段工作，部署下一步任务。</p><p>会议强调，要抢抓大湾区建设重大机遇，加快打造大湾区连接大西南枢纽门户城市。</p>`,
			TitleEN:       "Zhaoqing holds a meeting to advance Greater Bay Area construction",
			SummaryEN:     "On the morning of May 26, the city held a meeting to advance the construction of the Guangdong-Hong Kong-Macao Greater Bay Area.",
			ContentHTMLEN: `<p>On the morning of May 26, the city held a meeting to advance the construction of the Guangdong-Hong Kong-Macao Greater Bay Area, reviewing the previous stage of work and setting the next tasks.</p><p>The meeting stressed seizing the major opportunities of Greater Bay Area construction and speeding up building Zhaoqing into a gateway city linking the Greater Bay Area with the Southwest.</p>`,
		}, "deepl"),
		ready(model.Item{
			ID: 3, SourceID: "zhaoqing-wechat", Key: "wx-3",
			Link:     "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=abc",
			Title:    "端午假期，肇庆这些景区人气爆棚！",
			Author:   "肇庆发布",
			Language: "zh", Published: d("2023-06-23T10:05:00Z"),
			ContentHTML:   `<p>端午假期，七星岩、鼎湖山等景区游客络绎不绝。</p><p>据统计，假期全市共接待游客约120万人次。</p>`,
			TitleEN:       "Dragon Boat Festival holiday: these Zhaoqing scenic spots were packed!",
			ContentHTMLEN: `<p>During the Dragon Boat Festival holiday, Seven Star Crags, Dinghu Mountain and other scenic spots saw a steady stream of visitors.</p><p>According to statistics, the city received about 1.2 million visitors during the holiday.</p>`,
		}, "openai/gpt-4o-mini"),
		ready(model.Item{
			ID: 4, SourceID: "gd-english", Key: "gd-4",
			Link:     "http://www.gd.gov.cn/gdywdt/content/post_4190000.html",
			Title:    "Guangdong unveils measures to boost consumption",
			Summary:  "The provincial government issued 20 measures to expand consumption in 2023.",
			Language: "en", Published: d("2023-06-20T08:00:00Z"),
			ContentHTML: `<p>The provincial government issued 20 measures to expand consumption in 2023, covering cars, housing and services.</p>`,
		}, ""),
		ready(model.Item{
			ID: 5, SourceID: "zhaoqing-news", Key: "post_2870001",
			Link:     "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2870001.html",
			Title:    "肇庆市2023年第一季度经济运行情况",
			Summary:  "一季度，全市地区生产总值同比增长4.2%。",
			Language: "zh", Published: d("2023-04-28T01:00:00Z"),
			ContentHTML:  `<p>一季度，全市地区生产总值同比增长4.2%。</p>`,
			Untranslated: true, TranslateErr: "deepl: quota exceeded",
		}, ""),
		ready(model.Item{
			ID: HostileID, SourceID: "zhaoqing-wechat", Key: "wx-6",
			Link:     "javascript:alert(1)",
			Title:    `恶意<script>alert("t")</script>标题`,
			Author:   `<img src=x onerror=alert(1)>`,
			Language: "zh", Published: d("2023-05-24T04:00:00Z"),
			ContentHTML: `<p onclick="alert(1)">正文</p><script>alert(1)</script><a href="javascript:alert(2)">链接</a>` +
				`<iframe src="https://evil.example/"></iframe><svg onload="alert(3)"><circle r="1"/></svg>`,
			TitleEN: `Hostile <script>alert("t")</script> title`,
			ContentHTMLEN: `<p onclick="alert(1)">Body text</p><script>alert(1)</script><a href="javascript:alert(2)">a link</a>` +
				`<iframe src="https://evil.example/"></iframe><svg onload="alert(3)"><circle r="1"/></svg>` +
				`<img src="https://mmbiz.qpic.cn/x.jpg" onerror="alert(4)"><a href="JaVaScRiPt:alert(5)">x</a>`,
		}, "deepl"),
		model.Item{
			ID: 7, SourceID: "zhaoqing-news", Key: "post_2870100",
			Link: "http://www.zhaoqing.gov.cn/xwzx/zqyw/content/post_2870100.html", Title: "尚未翻译的文章",
			Language: "zh", Published: d("2023-06-25T01:00:00Z"), State: model.StateTranslating,
			ContentHTML: `<p>这篇文章还在翻译中。</p>`,
		},
	}
	for i, it := range posts {
		if err := add(ctx, st, it, int64(i+1)); err != nil {
			return err
		}
	}
	return status(ctx, st, now)
}

// add stores one post as the pipeline would: first seen 12 minutes after
// it was published, ready (with its translation) 3 minutes later.
func add(ctx context.Context, st *store.Store, it model.Item, wantID int64) error {
	seen := it.Published.Add(12 * time.Minute)
	state, by := it.State, it.TranslatedBy
	it.ID, it.State, it.TranslatedBy = 0, "", ""
	it.ContentHash = "h" + it.Key
	it.BackfillRank = -1
	res, err := st.UpsertItems(ctx, it.SourceID, []model.Item{it}, seen)
	if err != nil {
		return fmt.Errorf("seed: store %s: %w", it.Key, err)
	}
	if len(res.New) != 1 || res.New[0] != wantID {
		return fmt.Errorf("seed: %s stored as %v, want id %d (seed a new store)", it.Key, res.New, wantID)
	}
	switch state {
	case model.StateReady:
		t := model.Translation{TitleEN: it.TitleEN, SummaryEN: it.SummaryEN, ContentHTMLEN: it.ContentHTMLEN, TranslatedBy: by, Untranslated: it.Untranslated}
		if err := st.MarkReady(ctx, wantID, t, []string{Channel}, seen.Add(3*time.Minute)); err != nil {
			return fmt.Errorf("seed: ready %s: %w", it.Key, err)
		}
	default:
		if err := st.SetItemState(ctx, wantID, state); err != nil {
			return fmt.Errorf("seed: %s: %w", it.Key, err)
		}
	}
	return nil
}

// status records the polls, usage, deliveries and channel states /status shows.
func status(ctx context.Context, st *store.Store, now time.Time) error {
	polls := []model.PollResult{
		{SourceID: "zhaoqing-news", At: now.Add(-4 * time.Minute), Status: model.PollOK, ItemCount: 4, NextPollAt: now.Add(16 * time.Minute)},
		{SourceID: "gd-english", At: now.Add(-7 * time.Minute), Status: model.PollOK, ItemCount: 1, NextPollAt: now.Add(8 * time.Minute)},
	}
	for i, at := range []time.Duration{-50, -29, -9} {
		polls = append(polls, model.PollResult{SourceID: "zhaoqing-wechat", At: now.Add(at * time.Minute), Status: model.PollError,
			Error: "HTTP 412 from rsshub.example (anti-bot challenge)", NextPollAt: now.Add(time.Duration(10+i*10) * time.Minute)})
	}
	for _, p := range polls {
		if _, err := st.RecordPoll(ctx, p); err != nil {
			return fmt.Errorf("seed: poll %s: %w", p.SourceID, err)
		}
	}
	if err := st.AddUsage(ctx, now.UTC().Format("2006-01-02"), "deepl", 48210, 37); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	// Six deliveries on Channel: three sent, one failed, two left pending.
	ds, err := st.ClaimDeliveries(ctx, "seed", now, 4, time.Minute)
	if err != nil || len(ds) != 4 {
		return fmt.Errorf("seed: claim deliveries: %d claimed, %v", len(ds), err)
	}
	for i, d := range ds[:3] {
		if err := st.MarkDelivered(ctx, d.ID, int64(100+i), now.Add(-time.Hour)); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := st.MarkDeliveryFailed(ctx, ds[3].ID, "Bad Request: message is too long"); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	err = st.SetChannelState(ctx, model.ChannelState{Channel: "-1001234567890#7", PausedUntil: now.Add(20 * time.Minute),
		Reason: "Telegram flood limit (retry_after 1200 s)"})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// Open returns a new in-memory store seeded with Zhaoqing.
func Open(ctx context.Context, now time.Time) (*store.Store, error) {
	st, err := store.Open(ctx, store.Config{DSN: ":memory:"}, nil)
	if err != nil {
		return nil, err
	}
	if err := Zhaoqing(ctx, st, now); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}
