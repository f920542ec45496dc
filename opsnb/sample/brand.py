"""The fictional brand 栖木家居: its channels, regions, platforms, people and campaign plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

BRAND = "栖木家居"

CHANNELS = ("自然搜索", "信息流广告", "微博", "抖音", "小红书", "微信私域", "KOL", "老带新")
CHANNEL_SHARE = (0.20, 0.18, 0.08, 0.16, 0.14, 0.10, 0.06, 0.08)
# probability that a new user of the channel never comes back after the first visit
CHANNEL_ONE_SHOT = (0.33, 0.45, 0.40, 0.42, 0.35, 0.22, 0.38, 0.25)
# relative purchase propensity of the channel's users
CHANNEL_PROPENSITY = (1.05, 0.85, 0.9, 0.95, 1.1, 1.3, 1.05, 1.2)
# channel mix of marketing touches (ads seen, links clicked) before a purchase
TOUCH_MIX = (0.14, 0.22, 0.08, 0.17, 0.16, 0.11, 0.06, 0.06)

REGIONS = ("华东", "华北", "华南", "华中", "西南", "西北", "东北")
REGION_SHARE = (0.32, 0.16, 0.20, 0.11, 0.11, 0.05, 0.05)
REGION_AOV = (1.06, 1.02, 1.04, 0.96, 0.95, 0.92, 0.94)

PLATFORMS = ("App", "小程序", "Web")
PLATFORM_SHARE = (0.42, 0.34, 0.24)

# daily spend: share weight relative to the channel's GMV share, cost per 1000 impressions, click-through rate
SPEND_TILT = {"自然搜索": 0.15, "信息流广告": 1.45, "微博": 1.15, "抖音": 1.3, "小红书": 1.2,
              "微信私域": 0.6, "KOL": 1.3, "老带新": 0.8}
CPM = {"自然搜索": 18.0, "信息流广告": 32.0, "微博": 24.0, "抖音": 40.0, "小红书": 45.0,
       "微信私域": 12.0, "KOL": 60.0, "老带新": 15.0}
CTR = {"自然搜索": 0.028, "信息流广告": 0.011, "微博": 0.007, "抖音": 0.016, "小红书": 0.019,
       "微信私域": 0.026, "KOL": 0.009, "老带新": 0.022}

PEOPLE = ("王晓雯", "李明轩", "张思远", "陈佳怡", "刘子涵", "杨帆", "赵可欣", "周博文")

ALL = "全渠道"


@dataclass(frozen=True)
class CampaignSpec:
    """One campaign of the plan; ``channels`` are the touch channels it tags (``全渠道`` = all)."""

    campaign_id: str
    name: str
    type: str
    start: date
    end: date                 # inclusive
    channel: str              # as written in campaigns.csv
    owner: str
    uplift: float             # conversion multiplier inside the window (on top of the season)
    roi: float                # attributed GMV ÷ cost the generator aims at

    @property
    def channels(self) -> tuple[str, ...]:
        if self.channel == ALL:
            return CHANNELS
        return tuple(self.channel.split("+"))


CAMPAIGNS = (
    CampaignSpec("CP2501", "新春年货节", "节日促销", date(2025, 1, 8), date(2025, 1, 22), "信息流广告+抖音", "陈佳怡", 1.1, 3.4),
    CampaignSpec("CP2502", "新品发布会", "新品发布", date(2025, 3, 15), date(2025, 3, 22), "微博+小红书", "李明轩", 1.1, 2.6),
    CampaignSpec("CP2503", "周年庆狂欢购", "大促", date(2025, 4, 18), date(2025, 4, 27), ALL, "王晓雯", 1.05, 4.1),
    CampaignSpec("CP2504", "618年中大促", "大促", date(2025, 6, 1), date(2025, 6, 18), ALL, "王晓雯", 1.0, 5.2),
    CampaignSpec("CP2505", "夏日特惠", "促销", date(2025, 7, 10), date(2025, 7, 25), "小红书+抖音", "赵可欣", 1.05, 3.0),
    CampaignSpec("CP2506", "双十一", "大促", date(2025, 11, 1), date(2025, 11, 11), ALL, "王晓雯", 1.0, 5.8),
    CampaignSpec("CP2507", "双十二年终盛典", "大促", date(2025, 12, 8), date(2025, 12, 12), "信息流广告+微博", "张思远", 1.0, 3.1),
    CampaignSpec("CP2601", "新春焕新季", "节日促销", date(2026, 1, 20), date(2026, 2, 3), "信息流广告+抖音", "陈佳怡", 1.1, 3.2),
    CampaignSpec("CP2602", "周年庆狂欢购", "大促", date(2026, 4, 17), date(2026, 4, 26), ALL, "王晓雯", 1.05, 4.4),
    CampaignSpec("CP2603", "618年中大促", "大促", date(2026, 6, 1), date(2026, 6, 18), ALL, "王晓雯", 1.0, 5.0),
    CampaignSpec("CP2604", "新品发布会", "新品发布", date(2026, 8, 20), date(2026, 8, 27), "微博+小红书", "李明轩", 1.1, 2.8),
    CampaignSpec("CP2605", "会员专享日", "会员活动", date(2026, 10, 8), date(2026, 10, 11), ALL, "刘子涵", 1.08, 3.6),
    CampaignSpec("CP2606", "社群裂变计划", "拉新裂变", date(2026, 10, 13), date(2026, 10, 25), "微信私域+老带新", "杨帆", 1.05, 0.6),
    CampaignSpec("CP2607", "直播带货专场", "直播", date(2026, 10, 20), date(2026, 10, 26), "抖音+KOL", "赵可欣", 1.08, 2.7),
    CampaignSpec("CP2608", "双十一", "大促", date(2026, 11, 1), date(2026, 11, 11), ALL, "王晓雯", 1.0, 0.0),
)
LOW_ROI_CAMPAIGN = "CP2606"

#: Display names (``pack.yaml`` ``labels``) of every category value the sample uses: English names for en
#: pages (a Chinese page shows the values as they are). Keys are columns (``channel``: every table with one)
#: or one table's column (``campaigns.type``).
LABELS: dict[str, dict[str, str]] = {
    "channel": {"自然搜索": "Organic search", "信息流广告": "In-feed ads", "微博": "Weibo", "抖音": "Douyin",
                "小红书": "Xiaohongshu", "微信私域": "WeChat private traffic", "KOL": "KOL", "老带新": "Referrals",
                ALL: "All channels"},
    "region": {"华东": "East China", "华北": "North China", "华南": "South China", "华中": "Central China",
               "西南": "Southwest China", "西北": "Northwest China", "东北": "Northeast China"},
    "platform": {"App": "App", "小程序": "Mini program", "Web": "Web"},
    "campaigns.type": {"节日促销": "Holiday promotion", "新品发布": "Product launch", "大促": "Major sale",
                       "促销": "Promotion", "会员活动": "Member event", "拉新裂变": "Referral drive", "直播": "Livestream"},
    "campaigns.name": {"新春年货节": "Spring Festival shopping fair", "新品发布会": "New product launch",
                       "周年庆狂欢购": "Anniversary sale", "618年中大促": "618 mid-year sale", "夏日特惠": "Summer deals",
                       "双十一": "Double 11", "双十二年终盛典": "Double 12 year-end gala",
                       "新春焕新季": "Spring refresh season", "会员专享日": "Members' day",
                       "社群裂变计划": "Community referral drive", "直播带货专场": "Livestream shopping special"},
    "content.type": {"图文": "Image post", "短视频": "Short video", "直播": "Livestream"},
    "feedback.category": {"物流": "Logistics", "质量": "Quality", "售后": "After-sales", "支付": "Payment",
                          "咨询": "Enquiry"},
    "feedback.priority": {"高": "High", "中": "Medium", "低": "Low"},
    "experiments.experiment": {"结算按钮改版": "Checkout button redesign"},
    "actions.metric": {"会员渗透率": "Member penetration", "转化率": "Conversion rate",
                       "平均处理时长": "Average handling time", "新增用户": "New users", "GMV": "GMV",
                       "满意度": "Satisfaction", "归因覆盖率": "Attribution coverage",
                       "会员复购率": "Member repurchase rate", "周流失率": "Weekly churn rate",
                       "渠道ROI": "Channel ROI", "复购率": "Repurchase rate"},
    # the action plan and the risk register are the team's own words: named too, so en pages read in English
    "actions.title": {"搭建会员积分体系": "Build a member points scheme",
                      "小程序下单流程改版": "Redesign the mini-program checkout",
                      "物流服务商切换与时效提升": "Switch logistics provider, deliver faster",
                      "小红书种草内容矩阵": "Xiaohongshu seeding content",
                      "双十一大促备货与客服扩容": "Double 11 stock and service capacity",
                      "客服知识库与智能应答": "Service knowledge base and smart replies",
                      "老带新奖励机制升级": "Upgrade referral rewards", "618会场与搜索优化": "618 venue and search tuning",
                      "抖音投放归因埋点补齐": "Complete Douyin attribution tracking",
                      "会员专享日活动复盘与SOP": "Members' day review and SOP",
                      "流失用户召回计划": "Win back churned users", "KOL投放预算重新分配": "Reallocate the KOL budget",
                      "双十一大促筹备": "Prepare Double 11", "会员体系2.0（等级与权益）": "Membership 2.0 (tiers, benefits)",
                      "自有商城Web端重构": "Rebuild the web store", "私域社群精细化运营": "Run private communities finely"},
    "actions.problem": {"复购率偏低": "Low repurchase rate", "下单流程转化低": "Low checkout conversion",
                        "物流投诉多": "Many logistics complaints", "新客获取成本高": "Costly new customers",
                        "大促履约压力": "Fulfilment strain in major sales", "咨询响应慢": "Slow replies to enquiries",
                        "拉新渠道单一": "Too few acquisition channels", "大促流量承接不足": "Sale traffic not converted",
                        "订单无法归因到渠道": "Orders not attributable to channels",
                        "会员活动效果不稳定": "Uneven member-event results", "用户流失上升": "Rising churn",
                        "KOL投放回报偏低": "Low KOL return", "Web端体验落后": "Web experience lags",
                        "社群活跃度低": "Quiet communities"},
    "risks.risk": {"双十一物流爆仓导致履约延迟": "Double 11 logistics overload delays deliveries",
                   "核心KOL合作价格上涨、效果下滑": "Key KOLs cost more and deliver less",
                   "抖音平台规则变化影响投放与归因": "Douyin rule changes hit ads and attribution",
                   "原材料（木材）成本上涨压缩毛利": "Rising timber costs squeeze margins",
                   "用户流失上升、老客活跃度下降": "Rising churn, less active returning customers",
                   "数据合规与个人信息保护要求趋严": "Stricter data compliance and privacy rules"},
    "risks.mitigation": {"提前锁定仓配产能，分批预售发货": "Book warehouse and delivery capacity early; ship pre-sales in waves",
                         "建立中腰部达人矩阵，按ROI动态分配预算": "Build a mid-tier creator roster; budget by ROI",
                         "补齐服务端埋点，接入平台归因接口": "Complete server-side tracking; use the platform's attribution API",
                         "与供应商签订年度框架协议，优化产品结构": "Sign annual supplier agreements; rebalance the product mix",
                         "上线流失预警与分层召回，强化会员权益": "Launch churn alerts and tiered win-back; strengthen member benefits",
                         "完善隐私协议与数据分级，定期合规审计": "Tighten privacy terms and data classes; audit regularly"},
}
