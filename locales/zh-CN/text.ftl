# 命令行输出给人看的文字（check、alerts、ack、silence、kpis），以及检查表里
# KPI 的目标和说明。数字已在代码里格式化好（$n 等都是字符串）；$count 只用于
# 选择复数形式。术语见 shared/zh-CN-terms.md。

## flywheel check
cli-check-header = flywheel 检查（截至 { $at }）：发现 { $n } 个问题（{ $critical } 个严重，{ $warning } 个警告）
cli-link-experience = 第 1 环：客户体验
cli-link-growth = 第 2 环：销量增长
cli-link-leverage = 第 3 环：运营杠杆
cli-link-meta = 数据与授权
cli-check-first = 优先排查：{ $text }
cli-diagnosis = 诊断：{ $text }
cli-no-data = 缺少数据（不计入问题）
cli-no-data-line = { $n } 个对象（{ $status }），例如 { $example }
cli-no-data-keep = 保持上次状态
cli-no-data-info = 提示

## 对象
cli-subject-asin = ASIN { $id }
cli-subject-sku = SKU { $id }
cli-subject-campaign = 广告活动 { $id }

## flywheel alerts
cli-col-id = 编号
cli-col-state = 状态
cli-col-severity = 严重程度
cli-col-rule = 规则
cli-col-account = 账户
cli-col-subject = 对象
cli-col-since = 开始时间
cli-col-last-notified = 上次通知
cli-col-muted = 静默
cli-state-pending = 待确认
cli-state-firing = 告警中
cli-state-resolved = 已恢复
cli-silenced-until = 静默至 { $time }
cli-acked-until = 已确认，至 { $time }
cli-times-in = 时间为 { $zone } 时区
cli-no-alerts-yet = 还没有告警
cli-no-open-alerts = 没有未关闭的告警（flywheel alerts --all 会同时列出已恢复的告警）

## flywheel ack 和 silence
cli-acknowledged = 已确认 { $id }（{ $rule } { $account } { $subject }），至 { $time }（{ $zone }）
cli-feedback-handled = ；已将 { $n } 个反馈订单标为已处理
cli-silence-rule = 规则 { $rule }
cli-silence-every-rule = 全部规则
cli-silence-account = 账户 { $account }
cli-silenced = 静默 #{ $id }：{ $what } 已静默至 { $time }（{ $zone }）；目前覆盖 { $n } 条未关闭的告警
cli-silence-expired = 已结束静默 #{ $id }：{ $what }（原定静默至 { $time }，{ $zone }）；它覆盖的 { $n } 条未关闭告警到了通知时间会再次通知
cli-silence-already-ended = 静默 #{ $id } 已于 { $time }（{ $zone }）结束，无需再结束
cli-ack-undone = 已撤销 { $id }（{ $rule } { $account } { $subject }）的确认（原定至 { $time }，{ $zone }）；到了重复通知时间会再次通知
cli-feedback-unhandled = ；该确认标为已处理的 { $n } 个反馈订单已恢复为未处理
cli-ack-none = { $id }（{ $rule } { $account } { $subject }）当前没有生效的确认，无需撤销

## flywheel silences
cli-col-matches = 匹配范围
cli-col-expires = 到期时间
cli-col-note = 备注
cli-col-created-by = 创建人
cli-col-created = 创建时间
cli-silences-every-rule = 全部规则
cli-silence-in-force = 生效中
cli-silence-ended = 已结束
cli-no-silences-in-force = 没有生效中的静默（flywheel silences --all 会同时列出已结束的静默）
cli-no-silences-yet = 还没有静默

## KPI 目标（检查表、flywheel kpis 和周报）
kpi-target-change-above = 周环比下降不超过 { $pct }%
kpi-target-change-below = 周环比上升不超过 { $pct }%
kpi-target-odr = 低于 { $max }% 且账户状态正常
kpi-target-zero = 为 0
kpi-target-range = { $min }–{ $max } 之间
kpi-target-at-least = 不低于 { $min }
kpi-target-at-most = 不高于 { $max }
kpi-target-none-off = 全部达标（{ $target }）
kpi-target-none-off-plain = 全部达标
kpi-note-no-subjects = 没有对象
kpi-note-with-data = { $n } 个中 { $known } 个有数据
kpi-note-off-target = ；未达标：{ $list }
kpi-note-more = 等
