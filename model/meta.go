package model

import (
	"slices"
	"strings"
)

// metaLabels translates the labels of Chinese government document
// metadata (信息公开 tables) into English. The page's own label is kept as
// the key of Item.Meta; this table is how surfaces show it.
var metaLabels = map[string]string{
	"索引号": "Index number", "发布机构": "Issuing body", "发文机关": "Issuing authority", "发文单位": "Issuing unit",
	"发文字号": "Document number", "文号": "Document number", "文件编号": "Document number", "成文日期": "Date written",
	"发布日期": "Date published", "发文日期": "Date issued", "印发日期": "Date printed", "主题分类": "Subject",
	"体裁分类": "Genre", "组配分类": "Category", "服务对象分类": "Audience", "主题词": "Keywords",
	"关键词": "Keywords", "信息分类": "Category", "分类": "Category", "公开方式": "Disclosure",
	"公开范围": "Disclosure scope", "公开时限": "Disclosure time limit", "有效性": "Validity", "时效": "Validity",
	"生效日期": "Effective date", "实施日期": "Effective date", "废止日期": "Repeal date", "信息来源": "Source",
	"所属机构": "Agency", "名称": "Title", "标题": "Title", "统一编号": "Registration number",
	"统一登记号": "Registration number",
}

// metaOrder is the order metadata is shown in (others follow by label).
var metaOrder = []string{"索引号", "发文机关", "发布机构", "发文单位", "发文字号", "文号", "文件编号", "成文日期",
	"发文日期", "印发日期", "发布日期", "生效日期", "实施日期", "废止日期", "有效性", "时效", "主题分类", "体裁分类",
	"组配分类", "服务对象分类", "主题词", "关键词", "信息分类", "分类", "所属机构", "信息来源", "公开方式", "公开范围",
	"公开时限", "统一编号", "统一登记号", "名称", "标题"}

// MetaField is one metadata entry as shown: the page's label, its English
// label ("" when the table has none) and the value.
type MetaField struct {
	Label, LabelEN, Value string
}

// MetaFields returns an item's metadata in display order.
func MetaFields(meta map[string]string) []MetaField {
	if len(meta) == 0 {
		return nil
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(metaOrder, a), slices.Index(metaOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	out := make([]MetaField, 0, len(keys))
	for _, k := range keys {
		out = append(out, MetaField{Label: k, LabelEN: metaLabels[k], Value: meta[k]})
	}
	return out
}

// String is "Document number (发文字号): 国发〔2019〕23号".
func (f MetaField) String() string {
	if f.LabelEN == "" {
		return f.Label + ": " + f.Value
	}
	return f.LabelEN + " (" + f.Label + "): " + f.Value
}
