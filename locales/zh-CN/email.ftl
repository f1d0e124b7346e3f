# 消息里的固定用语：严重程度、状态、飞轮的三个环节、告警卡片、页脚、周报、
# 链接名称和单位。数字已在代码里格式化好（$n，字符串）；$count 只用于选择复数形式。

## 严重程度
severity-critical = 严重
severity-warning = 警告
severity-info = 提示
severity-critical-tag = 严重
severity-warning-tag = 警告
severity-info-tag = 提示
count-critical = { $n } 条严重
count-warning = { $n } 条警告
count-info = { $n } 条提示
count-resolved = { $n } 条已恢复

## 告警状态
kind-new = 新告警
kind-still-firing = 告警中
kind-still-firing-since = 告警中（自 { $since } 起）
kind-worse = 恶化
kind-worse-since = 比上封邮件更严重（之前为 { $was }），自 { $since } 起告警
kind-resolved = 已恢复
kind-resolved-at = 已恢复（{ $at }）
state-firing = 告警中
state-resolved = 已恢复

## 运营飞轮和它的环节
flywheel = 运营飞轮
link-experience = 客户体验
link-growth = 销量增长
link-leverage = 运营杠杆
link-meta = flywheel 自身
link-heading = 第 { $n } 环：{ $name }
link-state-healthy = 健康
link-state-warnings = { $n } 条警告
link-state-critical = { $n } 条严重

## 告警卡片
do-first = 今日优先处理
what-to-check-first = 优先排查
evidence = 数据依据
acknowledge = 确认
silence = 静默
window = 统计区间
value = 数值
threshold = 阈值
value-vs-threshold = { $value }（阈值 { $threshold }）
window-range = { $start } 至 { $end }
diagnosis = 诊断
conversion-fell = 转化率下降
traffic-fell = 流量下降
other-rules-firing = 同时告警的规则
trend = 趋势
trend-stats = 最低 { $min }，最高 { $max }，最新 { $last }（{ $date }）
trend-no-data = 这 { $n } 个数据点都没有数据
chart-threshold = 阈值 { $value }
history-starts = 数据从 { $date } 开始
more-items = 另有 { $n } 项
resolved-tail = （已恢复）
ack-tail = （确认编号 { $id }）
no-alerts = 没有告警。
one-line-note = 其余告警每条只列一行，详情请运行 flywheel alerts。
subject-resolved = 已恢复
subject-no-alerts = 没有告警
yes = 是
no = 否
unknown = 未知
list-separator = {"，"}
marketplace-level = { $marketplace }

## 告警邮件页脚
footer-acknowledge = 确认告警（7 天内不再重复提醒）：flywheel ack <id>，id 是告警旁边显示的 8 位编号。
footer-silence = 对某个对象静默一条规则：flywheel silence --rule <rule> --asin <ASIN>（或 --sku、--campaign、--account）--for 7d --note '...'。查看全部告警：flywheel alerts。
footer-sent = 由 flywheel 于 { $time }（{ $zone }）发送。

## 周报
digest-title = 飞轮健康度检查表（12 项核心 KPI）周报
digest-open-alerts = 未关闭的告警（{ $n }）
digest-no-open-alerts = 没有：所有规则都正常。
digest-improved = 本周改善
digest-nothing-improved = 本周没有恢复或改善的项目。
digest-unavailable = 缺少数据（缺少角色权限）
digest-grant-role = 在卖家后台（应用和服务 > 开发应用）授予该角色，然后运行 flywheel doctor。
digest-more-marketplaces = 另有 { $n } 个站点（{ $list }）的检查表放不下：请运行 flywheel kpis。
digest-sent = 由 flywheel 于 { $time }（{ $zone }）发送。随时运行 flywheel kpis 查看检查表，flywheel alerts 列出全部告警。
kpi-status-ok = 正常
kpi-status-warning = 警告
kpi-status-critical = 严重
kpi-status-no-data = 无数据

## 消息里链接指向的页面
page-detail = 商品详情页
page-home = 卖家后台
page-account-health = 账户健康
page-feedback-manager = 反馈管理
page-manage-inventory = 管理库存
page-restock = 补货建议
page-returns = 退货管理
page-edit-listing = 编辑 Listing
page-fix-listing = 修复 Listing
page-brand-analytics = 品牌分析
page-campaigns = 广告活动管理
page-campaign = 广告控制台中的广告活动

## 单位（数字已格式化）
unit-hours = { $n } 小时
unit-days = { $n } 天
unit-points = { $n } 个百分点
unit-stars = { $n } 星
unit-times = { $n } 倍
unit-rank = 第 { $n } 名
unit-units = { $n } 件
days-ago = { $n } 天前

## 站点
marketplace-CA = 加拿大站
marketplace-US = 美国站
marketplace-MX = 墨西哥站
marketplace-BR = 巴西站
marketplace-IE = 爱尔兰站
marketplace-ES = 西班牙站
marketplace-UK = 英国站
marketplace-FR = 法国站
marketplace-BE = 比利时站
marketplace-NL = 荷兰站
marketplace-DE = 德国站
marketplace-IT = 意大利站
marketplace-SE = 瑞典站
marketplace-ZA = 南非站
marketplace-PL = 波兰站
marketplace-EG = 埃及站
marketplace-TR = 土耳其站
marketplace-SA = 沙特站
marketplace-AE = 阿联酋站
marketplace-IN = 印度站
marketplace-SG = 新加坡站
marketplace-AU = 澳大利亚站
marketplace-JP = 日本站

## 告警邮件的框架、摘要和卡片
email-title = flywheel · { $account }
email-as-of = { $marketplace } · 截至 { $time }
email-as-of-many = 截至 { $time }
colon = {"："}
subject-colon = {"："}
subject-still-firing = 仍在告警：{ $counts }
still-firing-heading = 仍在告警（{ $n }）
resolved-heading = 已恢复（{ $n }）
omitted-note = 另有 { $n } 条告警没有列出：运行 flywheel alerts 查看全部。
ack-line = 确认：flywheel ack { $ids }
campaign-id = 广告活动 { $id }
card-marketplace = { $marketplace }：{ $link }
stake-per-day = 每天约 { $amount } 的销售额受影响
stake-share = 每天约 { $amount } 的销售额受影响（占日销售额 { $share }）
history-none = 还没有历史数据
chart-now = 最新 { $value }（{ $date }）
chart-range = 最低 { $min } · 最高 { $max }
chart-rolling = 滚动 { $n } 天

## 每条告警的说法（含数字）
unit-clicks = { $n } 次点击
hl-out-of-stock = 已断货
hl-no-sales = 有广告花费但没有销售额
hl-feedback-response-sla = { $value } 条差评超过 { $threshold } 未回复
hl-feedback-rate = 负面反馈率 { $value }（上限 { $threshold }）
hl-review-topics = 相关评论占比上升 { $value }（告警线 { $threshold }）
hl-rating-floor = 星级评分 { $value }，低于 { $threshold }
hl-return-rate = 退货率 { $value }（上限 { $threshold }）
hl-listing-health = { $value } 个 Listing 问题
hl-account-health = 订单缺陷率(ODR) { $value }（上限 { $threshold }）
hl-conversion-rate = 转化率 { $value }，低于 { $threshold }
hl-traffic-trend = 会话数下降 { $value }（告警线 { $threshold }）
hl-buy-box = 购物车(Buy Box)占有率 { $value }，低于 { $threshold }
hl-bsr-trend = BSR 排名下滑 { $value }（告警线 { $threshold }）
hl-keyword-share = 关键词曝光份额下降 { $value }（告警线 { $threshold }）
hl-growth-stall = 订购 { $value }，上期 { $threshold }
hl-acos-band = ACoS { $value }，目标区间 { $threshold }
hl-tacos = TACoS { $value }（上限 { $threshold }）
hl-ad-reliance = 广告销售占比 { $value }（上限 { $threshold }）
hl-cpc-trend = CPC 上涨 { $value }（告警线 { $threshold }）
hl-wasted-spend = { $value }未出单（告警线 { $threshold }）
hl-stockout-risk = 可售天数仅剩 { $value }，需要 { $threshold }
hl-inventory-turnover = 库存可售 { $value }（上限 { $threshold }）
hl-margin-floor = 利润率 { $value }（下限 { $threshold }）
hl-data-freshness = 数据已 { $value } 未更新（允许 { $threshold }）
hl-credentials = { $value } 个授权/凭证问题

## 增长停滞的诊断
diag-units = 销量下降 { $pct }（{ $before } → { $now } 件）
diag-colon = {"："}
diag-separator = {"；"}
diag-out-of-stock = 当前已断货
diag-stockout = 近期断货 { $days }
diag-traffic-fell = 流量下降 { $pct }
diag-traffic-rose = 流量上升 { $pct }
diag-traffic-steady = 流量持平
diag-conversion-fell = 转化率下降 { $before } → { $now }
diag-conversion-rose = 转化率上升 { $before } → { $now }
diag-conversion-steady = 转化率持平
check-stock = 库存
check-buy-box = 购物车(Buy Box)
check-price = 价格
check-review-topics = 评论
check-returns = 退货
check-listing = Listing
check-cpc = 广告
check-impression-share = 广告曝光份额
check-bsr = BSR 排名
check-keyword-share = 关键词份额

## 今日优先处理：每条规则的动作
act-feedback-response-sla = 回复差评
act-feedback-rate = 排查差评原因
act-review-topics = 解决评论里集中反映的问题
act-rating-floor = 解决低星评分的原因
act-return-rate = 降低退货
act-listing-health = 修复 Listing
act-account-health = 处理账户健康问题
act-conversion-rate = 提升转化率（价格、评论、图片）
act-traffic-trend = 找回流量
act-buy-box = 抢回购物车(Buy Box)
act-bsr-trend = 排查销量下滑原因
act-keyword-share = 守住关键词
act-growth-stall = 恢复增长
act-acos-band = 把 ACoS 拉回目标区间
act-tacos = 降低广告总花费占比
act-ad-reliance = 提升自然流量销售
act-cpc-trend = 检查上涨的出价
act-wasted-spend = 添加否定关键词
act-stockout-risk = 立即补货
act-inventory-turnover = 清理滞销库存
act-margin-floor = 修正利润（价格或成本）
act-data-freshness = 修复数据同步（flywheel doctor）
act-credentials = 更新授权凭证（flywheel doctor）

## 图表的指标
chart-feedback-response-sla = 超时未回复的差评
chart-feedback-rate = 负面反馈率
chart-review-topics = 提及该主题的评论占比
chart-rating-floor = 星级评分
chart-return-rate = 退货率
chart-listing-health = Listing 问题
chart-account-health = 订单缺陷率
chart-conversion-rate = 转化率
chart-traffic-trend = 会话数
chart-buy-box = 购物车(Buy Box)占有率
chart-bsr-trend = BSR 排名中位数
chart-keyword-share = 搜索词曝光份额
chart-growth-stall = 订购件数
chart-acos-band = ACoS
chart-tacos = TACoS
chart-ad-reliance = 广告销售占比
chart-cpc-trend = CPC
chart-wasted-spend = 搜索词点击数
chart-stockout-risk = 可售天数
chart-inventory-turnover = 库存可售天数
chart-margin-floor = 单件利润率
chart-data-freshness = 距上次同步的小时数
chart-credentials = 授权/凭证问题

## 周报：摘要、检查表、列表
digest-subject = 周报
digest-kpis-off = { $n } 项 KPI 未达标
digest-open-count = { $n } 条未关闭告警
digest-unavailable-count = { $n } 个数据源不可用
digest-generated = { $account } · 生成于 { $time }
digest-checklist = { $marketplace }：飞轮健康度检查表（截至 { $date }）
digest-target = 目标 { $target }
digest-more = 另有 { $n } 项{ $hint }
digest-hint-alerts = ：运行 flywheel alerts 查看。
digest-hint-doctor = ：运行 flywheel doctor 排查。
digest-since = 自 { $time } 起
digest-resolved-line = 已恢复：{ $title } { $name }（{ $time }）
digest-improved-line = { $kpi }（{ $marketplace }）：{ $from } → { $to }
digest-unavailable-line = 任务 { $job } 自 { $since } 起不可用
digest-rules-without-data = 缺少数据的规则：{ $rules }
digest-alive-none = flywheel 最近 7 天没有同步：请检查守护进程是否在运行（systemctl status flywheel）
digest-alive = flywheel 最近 7 天同步了 { $n } 次
digest-alive-separator = {"；"}
digest-last-round-ok = 最近一轮同步 { $time } 正常
digest-last-round-failed = 最近一轮同步 { $time }：{ $jobs } 个任务中 { $failed } 个失败
digest-alive-end = 。
kpi-conversion-rate = 转化率（14 天）
kpi-sessions = 会话数（7 天）
kpi-buy-box-pct = 购物车(Buy Box)占有率（7 天）
kpi-bsr = BSR 排名下滑的 ASIN 数
kpi-acos = ACoS（成熟的 14 天）
kpi-tacos = TACoS（成熟的 14 天）
kpi-return-rate = 退货率（30 天）
kpi-feedback-sla-breaches = 未回复的差评
kpi-negative-feedback-rate = 负面反馈率（30 天）
kpi-days-of-supply = 库存周转天数超出范围的 SKU 数
kpi-stockout-risk-skus = 有断货风险的 SKU 数
kpi-account-health = 订单缺陷率(ODR)
